import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** How the bench starts the API, for every script that measures it (run.ts, profile.ts). */

const root = path.resolve(__dirname, '..');

/** The API's entry point, relative to the repository. */
export const API_SCRIPT = 'dist/src/server.js';

/** The node flags `npm start` gives the API (its heap budget), so that the bench runs the API as deployed. */
export function apiNodeFlags(): string[] {
  const start = (JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts.start;
  const words = start.split(/\s+/);
  return words.slice(words.indexOf('node') + 1, words.indexOf(API_SCRIPT)).filter((word) => word.startsWith('--'));
}

/** The API's environment in production mode on one database, no Redis, limits out of the bench's way. */
export function apiEnvFor(databaseUrl: string, dataDir: string): Record<string, string> {
  return {
    NODE_ENV: 'production',
    DATABASE_URL: databaseUrl,
    JWT_SECRET: randomBytes(48).toString('base64url'),
    JWT_REFRESH_SECRET: randomBytes(48).toString('base64url'),
    RATE_LIMIT_MAX: '100000000',
    // The checkout rows sign their customers in and put a code on every cart: the per-IP limits this sets
    // (20 per window, on sign-ins and on codes tried) must not refuse them.
    AUTH_RATE_LIMIT_MAX: '100000000',
    REDIS_URL: '',
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info',
    DATA_DIR: dataDir,
  };
}

/** What autocannon measured of one server for one request. */
export interface Measurement {
  requestsPerSecond: number;
  p50: number;
  p99: number;
  errors: number;
  requests: number;
  rssMb: number;
}
