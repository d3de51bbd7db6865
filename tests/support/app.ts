import type { Express } from 'express';
import { createApp } from '../../src/app';
import { config } from '../../src/platform/config';
import { closeRedis, getRedis } from '../../src/platform/redis';
import { closeJobs, initJobs, startJobProcessing, whenJobsIdle } from '../../src/jobs';
import { useTestDatabase, type TestDatabase } from './database';

export interface TestApp {
  app: Express;
  db: TestDatabase;
  /** Waits until every queued job (mails…) has run. */
  jobsIdle(): Promise<void>;
}

/** Stops this file's jobs, removes its keys from the shared Redis (its own REDIS_PREFIX) and closes Redis. */
export async function closeJobsAndRedis(): Promise<void> {
  await closeJobs();
  const redis = getRedis();
  if (redis) {
    const keys = await redis.keys(`${config.redisPrefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
  }
  await closeRedis();
}

/**
 * The whole application on the test file's own database, with the in-process job driver
 * (or BullMQ when REDIS_URL is set) and its workers running. Call at the top level of a file.
 */
export function useTestApp(): TestApp {
  const database = useTestDatabase();
  let app: Express | undefined;
  beforeAll(async () => {
    initJobs();
    await startJobProcessing();
    app = createApp();
  });
  afterAll(closeJobsAndRedis);
  return {
    get app(): Express {
      if (!app) throw new Error('the app exists only inside tests (after beforeAll)');
      return app;
    },
    get db(): TestDatabase {
      return database.current;
    },
    jobsIdle: () => whenJobsIdle(),
  };
}
