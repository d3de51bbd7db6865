import type { Config } from 'jest';

const config: Config = {
  testEnvironment: 'node',
  roots: ['<rootDir>/tests'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json', diagnostics: false }] },
  globalSetup: '<rootDir>/tests/support/global-setup.ts',
  globalTeardown: '<rootDir>/tests/support/global-teardown.ts',
  setupFiles: ['<rootDir>/tests/support/env.ts'],
  testTimeout: 30_000,
  // Two cores: one worker per core; each test file owns its database, so files run in parallel.
  maxWorkers: process.env.JEST_MAX_WORKERS ?? 2,
  reporters: ['default', ['<rootDir>/tests/support/summary-reporter.js', {}]],
};

export default config;
