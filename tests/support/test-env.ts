import os from 'node:os';
import path from 'node:path';

/** The environment every test process sees: fixed dev secrets, fast hashing, quiet logs, a private DATA_DIR. */
export const TEST_ENV: Record<string, string> = {
  NODE_ENV: 'test',
  // Random (openssl rand -base64 36): the files that load a production configuration need secrets it accepts.
  JWT_SECRET: 'SPHM1FB07QFR9MymhiUmgoPS90tt862H8TGpi8HnzK+YLqwE',
  JWT_REFRESH_SECRET: 'KURi5Rubu8luzTMGFmFESIqWiDe9S9qqkXUaO1rzC36zA8zi',
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
