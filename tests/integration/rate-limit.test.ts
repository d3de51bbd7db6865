import '../support/low-rate-limits';
import request from 'supertest';
import { createApp } from '../../src/app';
import { config } from '../../src/platform/config';
import { closeRedis, getRedis } from '../../src/platform/redis';
import { useTestApp } from '../support/app';

describe('rate limits', () => {
  const ctx = useTestApp();

  afterAll(async () => {
    const redis = getRedis();
    if (redis) {
      const keys = await redis.keys(`${config.redisPrefix}:*`);
      if (keys.length > 0) await redis.del(...keys);
    }
    await closeRedis();
  });

  it('limits login, register, forgot and reset password together, with RateLimit-* and Retry-After headers', async () => {
    const attempts = [
      () => request(ctx.app).post('/api/auth/login').send({ email: 'nobody@example.test', password: 'whatever-1' }),
      () => request(ctx.app).post('/api/auth/forgot-password').send({ email: 'nobody@example.test' }),
      () => request(ctx.app).post('/api/auth/reset-password').send({ token: 'x', password: 'Sturdy-pass-42' }),
    ];
    for (const attempt of attempts) expect((await attempt()).status).not.toBe(429);
    const limited = await request(ctx.app).post('/api/auth/register').send({ email: 'new@example.test', password: 'Sturdy-pass-42', name: 'New One' });
    expect(limited.status).toBe(429);
    expect(limited.body).toEqual({ success: false, error: { code: 'RATE_LIMIT_EXCEEDED', message: expect.any(String) } });
    expect(limited.headers['ratelimit-limit']).toBe('3');
    expect(limited.headers['ratelimit-remaining']).toBe('0');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    // The strict limit is for those routes only.
    expect((await request(ctx.app).get('/health')).status).toBe(200);
    expect((await request(ctx.app).post('/api/auth/refresh-token').send({ refreshToken: 'x' })).status).toBe(401);
  });

  it('limits trying promotion codes per client, apart from sign-ins', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i += 1) statuses.push((await request(ctx.app).post('/api/cart/promo').send({ code: `GUESS${i}` })).status);
    // The limit counts every try, answered or not: guessing which codes exist stops after AUTH_RATE_LIMIT_MAX.
    expect(statuses).toEqual([401, 401, 401, 429]);
  });

  it('limits the whole API per client', async () => {
    let last = 0;
    for (let i = 0; i < 12; i += 1) last = (await request(ctx.app).get('/api/openapi.json')).status;
    expect(last).toBe(429);
  });

  (process.env.REDIS_URL ? it : it.skip)('shares one count between processes through Redis', async () => {
    const first = createApp();
    const second = createApp();
    const statuses: number[] = [];
    for (let i = 0; i < 4; i += 1) {
      const app = i % 2 === 0 ? first : second;
      statuses.push((await request(app).post('/api/auth/verify-email').send({ token: 'x' })).status);
    }
    // Each app alone has seen 2 requests; together they are over the general limit already spent above,
    // so the shared count refuses them. With a per-process memory store the fresh apps would answer 400.
    expect(statuses.every((status) => status === 429)).toBe(true);
  });
});
