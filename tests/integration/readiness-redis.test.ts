import type { Express } from 'express';
import request from 'supertest';
import { TcpProxy } from '../support/tcp-proxy';
import { useTestDatabase } from '../support/database';

const describeRedis = process.env.REDIS_URL ? describe : describe.skip;

describeRedis('/ready when the configured Redis stops', () => {
  useTestDatabase();
  let proxy: TcpProxy;
  let app: Express;
  let closeRedis: () => Promise<void>;
  let checkTtlMs: number;

  beforeAll(async () => {
    const target = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
    proxy = new TcpProxy(target.hostname, Number(target.port || 6379));
    const port = await proxy.start();
    // Config is read on first use: point REDIS_URL at the proxy before the app is loaded.
    process.env.REDIS_URL = `redis://127.0.0.1:${port}`;
    const { createApp } = await import('../../src/app');
    ({ closeRedis } = await import('../../src/platform/redis'));
    ({ READY_CHECK_TTL_MS: checkTtlMs } = await import('../../src/platform/http/health.routes'));
    app = createApp();
  });

  afterAll(async () => {
    await closeRedis();
    await proxy.stop();
  });

  it('turns 503 naming redis while it is unreachable, and 200 again when it is back', async () => {
    const up = await request(app).get('/ready');
    expect(up.status).toBe(200);
    expect(up.body.data.checks).toEqual({ database: 'up', redis: 'up' });

    const port = proxy.port;
    await proxy.stop();
    // The answer of the last check stands for READY_CHECK_TTL_MS; the next one sees the outage.
    await new Promise((resolve) => setTimeout(resolve, checkTtlMs + 50));
    const down = await request(app).get('/ready');
    expect(down.status).toBe(503);
    expect(down.body.error.details).toEqual([{ database: 'up', redis: 'down' }]);

    await proxy.start(port);
    let status = 0;
    for (let attempt = 0; attempt < 50 && status !== 200; attempt += 1) {
      status = (await request(app).get('/ready')).status;
      if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(status).toBe(200);
  }, 30_000);
});
