import os from 'node:os';
import path from 'node:path';

/** The environment every test process sees: fixed dev secrets, fast hashing, quiet logs, a private DATA_DIR. */
export const TEST_ENV: Record<string, string> = {
  NODE_ENV: 'test',
  JWT_SECRET: 'test-access-secret-that-is-long-enough-0123456789',
  JWT_REFRESH_SECRET: 'test-refresh-secret-that-is-long-enough-9876543210',
  BCRYPT_ROUNDS: '4',
  LOG_LEVEL: 'error',
  FRONTEND_URL: 'http://shop.test',
  ALLOWED_ORIGINS: 'http://shop.test,http://admin.shop.test',
  RATE_LIMIT_MAX: '100000',
  AUTH_RATE_LIMIT_MAX: '100000',
  // Tests make rows with factories, around the services; each listing counts afresh
  // (tests/integration/listing-totals.test.ts covers the reuse).
  LISTING_TOTALS_TTL_MS: '0',
  PUBLIC_CACHE_TTL_MS: '0',
};

export function testDataRoot(): string {
  return path.join(os.tmpdir(), `marketplace-test-${process.env.TEST_RUN_ID ?? process.pid}`);
}
