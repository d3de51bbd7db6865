import type { Express } from 'express';
import request from 'supertest';
import Stripe from 'stripe';
import { useTestDatabase, type TestDatabase } from './database';
import { StripeStub } from './stripe-stub';

export interface StripeTestApp {
  stub: StripeStub;
  app: Express;
  db: TestDatabase;
  /** With Redis and JOBS_IN_API=false only the queues are waited on: the workers relay the outbox. */
  jobsIdle(): Promise<void>;
  /** Posts a Stripe event to the webhook, signed as Stripe signs it. */
  deliver(type: string, object: unknown, options?: { eventId?: string; secret?: string; timestamp?: number; tamper?: (payload: string) => string }): request.Test;
}

/**
 * The whole application with Stripe configured and its SDK pointed at a local stand-in. The
 * configuration is read once per file on first use, so the stub starts and the environment is
 * set before the app is imported (in beforeAll, not at the top of the file). Call at top level.
 */
export function useStripeApp(extraEnv: Record<string, string> = {}): StripeTestApp {
  const database = useTestDatabase();
  const stub = new StripeStub();
  const signer = new Stripe('sk_test_signer');
  let app: Express | undefined;
  let jobs: typeof import('../../src/jobs') | undefined;
  let conformance: import('./openapi-conformance').Conformance | undefined;

  beforeAll(async () => {
    await stub.start();
    // A short timeout: a hanging Stripe is a test case, not a wait.
    Object.assign(process.env, stub.env(), { STRIPE_TIMEOUT_MS: '700' }, extraEnv);
    const { createApp } = await import('../../src/app');
    const { config } = await import('../../src/platform/config');
    jobs = await import('../../src/jobs');
    jobs.initJobs();
    // As src/server.ts decides: with Redis and JOBS_IN_API=false the jobs run in worker processes only.
    if (!config.redisUrl || config.jobsInApi) await jobs.startJobProcessing();
    const { conformingApp } = await import('./app');
    ({ app, conformance } = conformingApp(createApp));
  });
  afterAll(async () => {
    const { expectConformanceNow } = await import('./app');
    if (conformance) expectConformanceNow(conformance);
  });

  afterAll(async () => {
    // Imported here, as the app is: after the environment was set.
    const { closeJobsAndRedis } = await import('./app');
    await closeJobsAndRedis();
    await stub.stop();
  });

  return {
    stub,
    get app(): Express {
      if (!app) throw new Error('the app exists only inside tests (after beforeAll)');
      return app;
    },
    get db(): TestDatabase {
      return database.current;
    },
    jobsIdle: () => jobs!.whenJobsIdle(),
    deliver(type, object, options = {}) {
      const { payload } = stub.event(type, object, options.eventId);
      const header = signer.webhooks.generateTestHeaderString({ payload, secret: options.secret ?? stub.webhookSecret, timestamp: options.timestamp });
      const body = options.tamper ? options.tamper(payload) : payload;
      return request(app!).post('/api/webhooks/stripe').set('Stripe-Signature', header).set('Content-Type', 'application/json').send(body);
    },
  };
}
