import type { Config } from 'jest';

/** `npm run test:cluster`: real API and worker processes on a PostgreSQL server and Redis (tests/cluster). */
const config: Config = {
  testEnvironment: 'node',
  roots: ['<rootDir>/tests/cluster'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json', diagnostics: false }] },
  testTimeout: 60_000,
  maxWorkers: 1,
  reporters: ['default', ['<rootDir>/tests/support/summary-reporter.js', {}]],
};

export default config;
