import request from 'supertest';
import { createApp } from '../../src/app';
import { closeDatabase, initDatabase } from '../../src/platform/db';
import { closeRedis } from '../../src/platform/redis';
import { READY_CHECK_TTL_MS } from '../../src/platform/http/health.routes';
import { createDatabaseFromTemplate, databaseUrl, dropDatabase } from '../support/database';
import { TcpProxy } from '../support/tcp-proxy';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('/ready and /health', () => {
  let name: string;
  let proxy: TcpProxy;
  /** Statements the app sent to the database, as Sequelize logs them. */
  const statements: string[] = [];

  beforeAll(async () => {
    name = await createDatabaseFromTemplate();
    const target = new URL(databaseUrl(name));
    proxy = new TcpProxy(target.hostname, Number(target.port));
    const port = await proxy.start();
    target.port = String(port);
    initDatabase(target.toString(), { poolMax: 2, logging: (sql) => statements.push(sql) });
  });

  afterAll(async () => {
    await closeRedis();
    await proxy.stop();
    await closeDatabase();
    await dropDatabase(name);
  });

  it('turns 503 while the database is unreachable and 200 again when it is back', async () => {
    const app = createApp();
    expect((await request(app).get('/ready')).status).toBe(200);

    const port = proxy.port;
    await proxy.stop();
    // The answer of the last check stands for READY_CHECK_TTL_MS; the next one sees the outage.
    await sleep(READY_CHECK_TTL_MS + 50);
    const down = await request(app).get('/ready');
    expect(down.status).toBe(503);
    expect(down.body).toMatchObject({ success: false, error: { code: 'NOT_READY' } });
    expect((await request(app).get('/health')).status).toBe(200);

    await proxy.start(port);
    // How soon is not the point: a check that timed out or a pool reconnecting can take seconds on a loaded machine.
    const deadline = Date.now() + 20_000;
    let status = 0;
    while (status !== 200 && Date.now() < deadline) {
      status = (await request(app).get('/ready')).status;
      if (status !== 200) await sleep(100);
    }
    expect(status).toBe(200);
  }, 60_000);

  it('answers a flood of /ready with at most one database round trip a second, and /health with none', async () => {
    const app = createApp();
    await sleep(READY_CHECK_TTL_MS + 50);
    statements.length = 0;
    const started = Date.now();
    let answered = 0;
    // Waves of 25 concurrent probes: 200 requests at least, however slow the machine, and at least
    // 1.5 s, so that the shared answer expires during the flood. The allowance of checks grows with
    // the time taken; one check per request would still be far above it.
    while (answered < 200 || Date.now() - started < 1500) {
      const wave = await Promise.all(Array.from({ length: 25 }, () => request(app).get('/ready')));
      expect(wave.map((res) => res.status)).toEqual(wave.map(() => 200));
      answered += wave.length;
    }
    const seconds = (Date.now() - started) / 1000;
    const checks = statements.filter((sql) => sql.includes('SELECT 1')).length;
    expect(checks).toBeGreaterThanOrEqual(1);
    expect(checks).toBeLessThanOrEqual(Math.ceil(seconds) + 1);

    statements.length = 0;
    const health = await Promise.all(Array.from({ length: 50 }, () => request(app).get('/health')));
    expect(health.every((res) => res.status === 200)).toBe(true);
    expect(statements).toEqual([]);
  }, 60_000);
});
