import path from 'node:path';
import { TEST_ENV, testDataRoot } from './test-env';

// Runs in every test file before any import of src/: config reads this environment.
for (const [key, value] of Object.entries(TEST_ENV)) process.env[key] ??= value;
process.env.DATA_DIR = path.join(testDataRoot(), `worker-${process.env.JEST_WORKER_ID ?? '0'}`);
// Each test file its own Redis namespace: queues shared between files would let one file's
// workers take (and run against their own database) the jobs of another.
process.env.REDIS_PREFIX = `t${process.pid.toString(36)}${Math.random().toString(36).slice(2, 8)}`;
