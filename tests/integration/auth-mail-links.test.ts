import type { Express } from 'express';
import { QueryTypes } from 'sequelize';
import request from 'supertest';
import { createApp } from '../../src/app';
import { config } from '../../src/platform/config';
import { getRedis } from '../../src/platform/redis';
import { initJobs, startJobProcessing, whenJobsIdle } from '../../src/jobs';
import { createUser, uniqueSuffix } from '../fixtures';
import { closeJobsAndRedis } from '../support/app';
import { useTestDatabase } from '../support/database';
import { tokenFromMail } from '../support/outbox';

/**
 * Where a mailed link waits before it is mailed (the outbox row) and after (the queue keeps
 * finished jobs for a day): neither may hold a link someone could follow.
 */
describe('sign-in links on their way to the mail', () => {
  const db = useTestDatabase();
  let app: Express;

  beforeAll(() => {
    // Workers and relay start in the test, once the outbox row has been read.
    initJobs();
    app = createApp();
  });

  afterAll(closeJobsAndRedis);

  async function unsentPayloads(): Promise<string[]> {
    const rows = await db.current.sequelize.query<{ payload: unknown }>(`SELECT payload FROM outbox WHERE sent_at IS NULL ORDER BY created_at`, {
      type: QueryTypes.SELECT,
    });
    return rows.map((row) => JSON.stringify(row.payload));
  }

  /** Every value the job queue holds in Redis for this file (empty without REDIS_URL: the in-process queue keeps no payload). */
  async function queueContents(): Promise<string> {
    const redis = getRedis();
    if (!redis) return '';
    const values: string[] = [];
    for (const key of await redis.keys(`${config.redisPrefix}:*`)) {
      if ((await redis.type(key)) === 'hash') values.push(...(await redis.hvals(key)));
    }
    return values.join('\n');
  }

  it('keeps reset and verification links sealed in the outbox and the job queue, and they work from the mail', async () => {
    const user = await createUser();
    const email = `links.${uniqueSuffix()}@example.test`;
    expect((await request(app).post('/api/auth/forgot-password').send({ email: user.email })).status).toBe(200);
    const registered = await request(app).post('/api/auth/register').send({ email, password: 'Sturdy-pass-42', name: 'Link Reader' });
    expect(registered.status).toBe(201);

    const waiting = await unsentPayloads();
    expect(waiting.filter((payload) => /"template":"(password-reset|email-verification)"/.test(payload))).toHaveLength(2);
    for (const payload of waiting) expect(payload).not.toMatch(/token=/);

    await startJobProcessing();
    await whenJobsIdle();
    const resetToken = tokenFromMail(user.email, '/reset-password');
    const verifyToken = tokenFromMail(email, '/verify-email');
    const queued = await queueContents();
    if (getRedis()) expect(queued).toMatch(/password-reset/);
    for (const secret of [resetToken, verifyToken, encodeURIComponent(resetToken), 'token=']) expect(queued).not.toContain(secret);

    expect((await request(app).post('/api/auth/reset-password').send({ token: resetToken, password: 'Brand-new-pass-7' })).status).toBe(200);
    expect((await request(app).post('/api/auth/verify-email').send({ token: verifyToken })).status).toBe(200);
  });
});
