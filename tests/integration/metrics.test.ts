import { randomBytes } from 'node:crypto';
import type { Express } from 'express';
import request from 'supertest';

/**
 * /metrics names every route with its traffic. In production it answers only a scraper that
 * sends METRICS_TOKEN, and is a plain 404 to anyone else (also when no token is set); in
 * development it stays open. The configuration is read once per module registry, so each
 * environment gets its own copy of the app's modules.
 */
const token = randomBytes(32).toString('hex');

async function appIn(env: Record<string, string | undefined>): Promise<Express> {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  for (const [key, value] of Object.entries(env)) if (value === undefined) delete process.env[key];
  try {
    let app: Express | undefined;
    await jest.isolateModulesAsync(async () => {
      const { createApp } = await import('../../src/app');
      app = createApp();
    });
    return app!;
  } finally {
    process.env = saved;
  }
}

const production = {
  NODE_ENV: 'production',
  BCRYPT_ROUNDS: '10',
  // Never connected to: /metrics and the 404 need no database.
  DATABASE_URL: 'postgres://nobody@127.0.0.1:9/none',
  APP_URL: 'https://api.example.com',
  REDIS_URL: undefined,
};

describe('/metrics', () => {
  it('in production, answers only with the bearer METRICS_TOKEN, and 404 ROUTE_NOT_FOUND otherwise', async () => {
    const app = await appIn({ ...production, METRICS_TOKEN: token });
    const open = await request(app).get('/metrics');
    expect(open.status).toBe(404);
    expect(open.body).toMatchObject({ success: false, error: { code: 'ROUTE_NOT_FOUND' } });
    expect(open.text).not.toContain('http_requests_total');

    for (const header of [`Bearer ${token.slice(1)}`, `Bearer ${token}x`, `Basic ${token}`, token, 'Bearer ']) {
      expect((await request(app).get('/metrics').set('Authorization', header)).status).toBe(404);
    }

    const scraped = await request(app).get('/metrics').set('Authorization', `Bearer ${token}`);
    expect(scraped.status).toBe(200);
    expect(scraped.headers['content-type']).toMatch(/^text\/plain/);
    expect(scraped.text).toContain('http_requests_total');
  });

  it('in production without METRICS_TOKEN, is 404 for everyone', async () => {
    const app = await appIn({ ...production, METRICS_TOKEN: undefined });
    expect((await request(app).get('/metrics')).status).toBe(404);
    expect((await request(app).get('/metrics').set('Authorization', 'Bearer undefined')).status).toBe(404);
    expect((await request(app).get('/metrics').set('Authorization', 'Bearer ')).status).toBe(404);
  });

  it('in development, stays open', async () => {
    const app = await appIn({ NODE_ENV: 'development', METRICS_TOKEN: undefined });
    const res = await request(app).get('/metrics');
    expect(res.status).toBe(200);
    expect(res.text).toContain('http_requests_total');
  });
});
