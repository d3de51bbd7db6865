import request from 'supertest';
import { createApp } from '../../src/app';
import { closeDatabase, initDatabase } from '../../src/db';
import { closeRedis } from '../../src/integrations/redis';
import { createDatabaseFromTemplate, databaseUrl, dropDatabase } from '../support/database';
import { TcpProxy } from '../support/tcp-proxy';

describe('/ready when the database stops', () => {
  let name: string;
  let proxy: TcpProxy;

  beforeAll(async () => {
    name = await createDatabaseFromTemplate();
    const target = new URL(databaseUrl(name));
    proxy = new TcpProxy(target.hostname, Number(target.port));
    const port = await proxy.start();
    target.port = String(port);
    initDatabase(target.toString(), { poolMax: 2 });
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
    const down = await request(app).get('/ready');
    expect(down.status).toBe(503);
    expect(down.body).toMatchObject({ success: false, error: { code: 'NOT_READY' } });
    expect((await request(app).get('/health')).status).toBe(200);

    await proxy.start(port);
    let status = 0;
    for (let attempt = 0; attempt < 20 && status !== 200; attempt += 1) {
      status = (await request(app).get('/ready')).status;
      if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(status).toBe(200);
  });
});
