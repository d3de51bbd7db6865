// Before anything reads the configuration: a TTL of three seconds, so that expiry shows within the
// test (other tests turn the cache off), and an answer past it stays STALE for three more: room for
// the requests a test makes meanwhile on a slow machine.
process.env.PUBLIC_CACHE_TTL_MS = '3000';

import request from 'supertest';
import { config } from '../../src/platform/config';
import { productService } from '../../src/modules/catalog/product.service';
import { forgetResponses } from '../../src/platform/utils/response-cache';
import { createCategory, createProduct, createReview } from '../fixtures';
import { useTestApp } from '../support/app';
import { productBody, signedInSeller } from '../support/catalog';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('public response cache: stale answers refreshed in the background', () => {
  const ctx = useTestApp();
  const get = (url: string) => request(ctx.app).get(url);
  const cacheStates = (answers: request.Response[]) => answers.map((res) => res.headers['x-cache'] as string | undefined);

  /** Asks for url until the cache answers it fresh (the background refresh kept its answer). */
  async function untilHit(url: string): Promise<request.Response> {
    const deadline = Date.now() + 3000;
    for (;;) {
      const res = await get(url);
      if (res.headers['x-cache'] === 'HIT' || Date.now() > deadline) return res;
      await sleep(20);
    }
  }

  it("serves each refreshing route's answer once more past its TTL, then the fresh one made meanwhile: byte for byte what a miss answers", async () => {
    expect(config.publicCacheTtlMs).toBe(3000);
    forgetResponses();
    const category = await createCategory();
    const product = await createProduct({ name: 'Quillwort Lantern', categoryId: category.id });
    const other = await createProduct({ name: 'Quillwort Candle', categoryId: category.id });
    await createReview({ productId: product.id });
    const urls = [
      `/api/products?category=${category.id}`,
      '/api/products/search?q=quillwort',
      `/api/products/facets?category=${category.id}`,
      `/api/products/${product.slug}`,
      `/api/products/${product.id}`,
      `/api/products/${other.id}/related`,
      `/api/products/${product.id}/reviews`,
    ];
    const first = await Promise.all(urls.map(get));
    expect(first.map((res) => res.status)).toEqual(urls.map(() => 200));
    expect(cacheStates(first)).toEqual(urls.map(() => 'MISS'));

    // Renamed behind the API's back: no catalog write is announced, so only expiry can show it.
    await ctx.db.sequelize.query(`UPDATE products SET name = 'Quillwort Lamp' WHERE id = $id`, { bind: { id: product.id } });
    await sleep(config.publicCacheTtlMs + 100);
    const stale = await Promise.all(urls.map(get));
    expect(cacheStates(stale)).toEqual(urls.map(() => 'STALE'));
    expect(stale.map((res) => res.text)).toEqual(first.map((res) => res.text));
    expect(stale.map((res) => res.headers.etag)).toEqual(first.map((res) => res.headers.etag));

    const refreshed = await Promise.all(urls.map(untilHit));
    expect(cacheStates(refreshed)).toEqual(urls.map(() => 'HIT'));
    // The list, the search, the product by slug and by id, and the related products name it.
    expect(refreshed.filter((res) => res.text.includes('Quillwort Lamp'))).toHaveLength(5);

    forgetResponses();
    const misses = await Promise.all(urls.map(get));
    expect(cacheStates(misses)).toEqual(urls.map(() => 'MISS'));
    expect(refreshed.map((res) => res.text)).toEqual(misses.map((res) => res.text));
    expect(refreshed.map((res) => res.headers.etag)).toEqual(misses.map((res) => res.headers.etag));
  });

  it('answers a miss once an answer is older than twice its TTL', async () => {
    forgetResponses();
    const url = `/api/products/${(await createProduct()).id}`;
    expect((await get(url)).headers['x-cache']).toBe('MISS');
    await sleep(2 * config.publicCacheTtlMs + 100);
    expect((await get(url)).headers['x-cache']).toBe('MISS');
  });

  it('makes one fresh answer for many requests of a stale answer at once', async () => {
    forgetResponses();
    const category = await createCategory();
    await createProduct({ categoryId: category.id });
    const url = `/api/products/facets?category=${category.id}`;
    const runs = jest.spyOn(productService, 'facets');
    try {
      expect((await get(url)).headers['x-cache']).toBe('MISS');
      await sleep(config.publicCacheTtlMs + 100);
      const answers = await Promise.all(Array.from({ length: 20 }, () => get(url)));
      expect(answers.map((res) => res.status)).toEqual(Array(20).fill(200));
      expect(new Set(answers.map((res) => res.text)).size).toBe(1);
      expect(cacheStates(answers).every((state) => state === 'STALE' || state === 'HIT')).toBe(true);
      expect((await untilHit(url)).headers['x-cache']).toBe('HIT');
      expect(runs).toHaveBeenCalledTimes(2);
    } finally {
      runs.mockRestore();
    }
  });

  it('does not keep a fresh answer read before a catalog write made while it was read', async () => {
    forgetResponses();
    const seller = await signedInSeller(ctx.app);
    const created = await request(ctx.app).post('/api/products').set('Authorization', seller.bearer).send(productBody({ name: 'Heron Teapot' }));
    expect(created.status).toBe(201);
    const url = `/api/products/${created.body.data.id}`;
    expect((await get(url)).headers['x-cache']).toBe('MISS');
    await sleep(config.publicCacheTtlMs + 100);

    // The background refresh reads the product, then waits until the rename below has committed.
    let release: () => void = () => undefined;
    const renamed = new Promise<void>((resolve) => (release = resolve));
    const read = productService.get.bind(productService);
    const refresh = jest.spyOn(productService, 'get').mockImplementationOnce(async (...args) => {
      const product = await read(...args);
      await renamed;
      return product;
    });
    try {
      const stale = await get(url);
      expect([stale.headers['x-cache'], stale.body.data.name]).toEqual(['STALE', 'Heron Teapot']);
      const patched = await request(ctx.app).patch(url).set('Authorization', seller.bearer).send({ name: 'Heron Kettle' });
      expect(patched.status).toBe(200);
      release();
      await sleep(50);
      expect(refresh).toHaveBeenCalledTimes(1);
    } finally {
      refresh.mockRestore();
    }
    const after = await get(url);
    expect([after.headers['x-cache'], after.body.data.name]).toEqual(['MISS', 'Heron Kettle']);
  });

  it('drops a stale answer it cannot make again: the next request gets what the handler answers', async () => {
    forgetResponses();
    const product = await createProduct();
    const url = `/api/products/${product.id}`;
    expect((await get(url)).status).toBe(200);
    // Made a draft behind the API's back: anonymous callers no longer see it.
    await ctx.db.sequelize.query(`UPDATE products SET status = 'draft' WHERE id = $id`, { bind: { id: product.id } });
    await sleep(config.publicCacheTtlMs + 100);
    const stale = await get(url);
    expect([stale.status, stale.headers['x-cache']]).toEqual([200, 'STALE']);

    const deadline = Date.now() + 3000;
    let res = await get(url);
    while (res.status === 200 && Date.now() < deadline) {
      await sleep(20);
      res = await get(url);
    }
    expect([res.status, res.body.error?.code]).toEqual([404, 'PRODUCT_NOT_FOUND']);
  });
});
