import '../support/catalog-cache-env';
import request from 'supertest';
import { config } from '../../src/platform/config';
import { createRedisConnection } from '../../src/platform/redis';
import { CATALOG_VERSION_POLL_MS, forgetCatalogCaches, startCatalogCacheSync, stopCatalogCacheSync } from '../../src/modules/catalog/catalog-cache';
import { MAX_STALENESS_MS } from '../../src/platform/db/replicas';
import { rememberResponse, keptResponse, forgetResponses, responseGeneration } from '../../src/platform/utils/response-cache';
import { createProduct } from '../fixtures';
import { useTestApp } from '../support/app';

const describeRedis = process.env.REDIS_URL ? describe : describe.skip;

describe('response cache generations', () => {
  it('does not keep an answer computed before a clear', () => {
    const since = responseGeneration();
    forgetResponses();
    rememberResponse('GET /stale', { body: Buffer.from('{"stale":true}'), data: {} }, 60_000, since);
    expect(keptResponse('GET /stale')?.response).toBeUndefined();
    rememberResponse('GET /fresh', { body: Buffer.from('{"fresh":true}'), data: {} }, 60_000, responseGeneration());
    expect(keptResponse('GET /fresh')?.response?.body.toString()).toBe('{"fresh":true}');
  });

  it('clears once per catalog write without read replicas', async () => {
    forgetCatalogCaches();
    rememberResponse('GET /kept', { body: Buffer.from('{"kept":true}'), data: {} }, 60_000);
    await new Promise((resolve) => setTimeout(resolve, MAX_STALENESS_MS + 100));
    expect(keptResponse('GET /kept')?.response?.body.toString()).toBe('{"kept":true}');
  });
});

describeRedis('catalog caches across processes', () => {
  const ctx = useTestApp();
  const other = () => createRedisConnection({ maxRetriesPerRequest: 1 });

  beforeAll(() => startCatalogCacheSync());
  afterAll(() => stopCatalogCacheSync());

  it("drops this process's cached answers within a second of a write announced by another process", async () => {
    const product = await createProduct({ name: 'Walnut Desk Organizer' });
    const first = await request(ctx.app).get(`/api/products/${product.id}`);
    expect(first.body.data.name).toBe('Walnut Desk Organizer');
    expect((await request(ctx.app).get(`/api/products/${product.id}`)).headers['x-cache']).toBe('HIT');

    // Another API process renames it: its own caches clear at once, and it bumps the shared version.
    await ctx.db.sequelize.query(`UPDATE products SET name = 'Oak Desk Organizer' WHERE id = $id`, { bind: { id: product.id } });
    const connection = other();
    await connection.incr(`${config.redisPrefix}:catalog:version`);
    await connection.quit();

    const deadline = Date.now() + 1000;
    let name = '';
    while (Date.now() < deadline && name !== 'Oak Desk Organizer') {
      await new Promise((resolve) => setTimeout(resolve, CATALOG_VERSION_POLL_MS / 5));
      name = (await request(ctx.app).get(`/api/products/${product.id}`)).body.data.name;
    }
    expect(name).toBe('Oak Desk Organizer');
  });
});
