import type { Express } from 'express';
import { createApp } from '../../src/app';
import { config } from '../../src/platform/config';
import { closeRedis, getRedis } from '../../src/platform/redis';
import { closeJobs, initJobs, startJobProcessing, whenJobsIdle } from '../../src/jobs';
import { publishedOpenApiDocument } from '../../src/platform/http/health.routes';
import { useTestDatabase, type TestDatabase } from './database';
import { Conformance, saveSamples, uniqueProblems, type OpenApiDocument } from './openapi-conformance';
import { testDataRoot } from './test-env';

export interface TestApp {
  app: Express;
  /** What checks every answer against the OpenAPI document (and keeps a body of each). */
  conformance: Conformance;
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
 * `createApp()` behind the OpenAPI conformance recorder: every answer the file's tests receive is
 * held to the published document, and the file fails at its end if one was not.
 */
export function conformingApp(create: () => Express): { app: Express; conformance: Conformance } {
  const app = create();
  const conformance = new Conformance(publishedOpenApiDocument() as unknown as OpenApiDocument);
  return { app: conformance.wrap(app), conformance };
}

/** Keeps the file's bodies for the end of the run, and fails the file if an answer did not conform. */
export function expectConformanceNow(conformance: Conformance): void {
  saveSamples(conformance, testDataRoot());
  expect(uniqueProblems(conformance)).toEqual([]);
}

/** Registers the end-of-file check of a conformance recorder. */
export function expectConformance(get: () => Conformance | undefined): void {
  afterAll(() => {
    const conformance = get();
    if (conformance) expectConformanceNow(conformance);
  });
}

/**
 * The whole application on the test file's own database, with the in-process job driver
 * (or BullMQ when REDIS_URL is set) and its workers running. Call at the top level of a file.
 */
export function useTestApp(): TestApp {
  const database = useTestDatabase();
  let app: Express | undefined;
  let conformance: Conformance | undefined;
  beforeAll(async () => {
    initJobs();
    await startJobProcessing();
    ({ app, conformance } = conformingApp(createApp));
  });
  expectConformance(() => conformance);
  afterAll(closeJobsAndRedis);
  return {
    get app(): Express {
      if (!app) throw new Error('the app exists only inside tests (after beforeAll)');
      return app;
    },
    get db(): TestDatabase {
      return database.current;
    },
    get conformance(): Conformance {
      if (!conformance) throw new Error('the app exists only inside tests (after beforeAll)');
      return conformance;
    },
    jobsIdle: () => whenJobsIdle(),
  };
}
