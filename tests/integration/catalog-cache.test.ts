import '../support/catalog-cache-env';
import request from 'supertest';
import { createCategory, createProduct } from '../fixtures';
import { signedInUser } from '../support/auth';
import { Product } from '../../src/models';
import { flushViews } from '../../src/modules/catalog/view-counter.service';
import { productService } from '../../src/modules/catalog/product.service';
import { responseCacheStats } from '../../src/platform/utils/response-cache';
import { useTestApp } from '../support/app';
import { productBody, signedInSeller } from '../support/catalog';

describe('catalog caches', () => {
  const ctx = useTestApp();

  it('reuses the total of a filter, and counts again after a catalog write through the API', async () => {
    const seller = await signedInSeller(ctx.app);
    const category = await createCategory();
    const list = () => request(ctx.app).get('/api/products').query({ category: category.id, limit: 1 });
    for (let i = 0; i < 2; i += 1) {
      const res = await request(ctx.app).post('/api/products').set('Authorization', seller.bearer).send(productBody({ categoryId: category.id }));
      expect(res.status).toBe(201);
    }
    expect((await list()).body.data.pagination.total).toBe(2);

    // A row written behind the API's back: the total is reused until it expires or the API writes.
    await createProduct({ sellerId: seller.user.id, categoryId: category.id });
    const reused = await list();
    expect(reused.body.data.pagination.total).toBe(2);
    expect(reused.body.data.products).toHaveLength(1);

    const created = await request(ctx.app).post('/api/products').set('Authorization', seller.bearer).send(productBody({ categoryId: category.id }));
    expect(created.status).toBe(201);
    expect((await list()).body.data.pagination.total).toBe(4);

    await request(ctx.app).delete(`/api/products/${created.body.data.id}`).set('Authorization', seller.bearer);
    expect((await list()).body.data.pagination.total).toBe(3);
  });

  it('answers many concurrent misses of one key with one run of the handler', async () => {
    const seller = await signedInSeller(ctx.app);
    await createProduct({ sellerId: seller.user.id });
    const runs = jest.spyOn(productService, 'facets');
    try {
      const answers = await Promise.all(Array.from({ length: 20 }, () => request(ctx.app).get('/api/products/facets').query({ sellerId: seller.user.id })));
      expect(answers.map((res) => res.status)).toEqual(Array(20).fill(200));
      expect(new Set(answers.map((res) => JSON.stringify(res.body))).size).toBe(1);
      expect(answers.filter((res) => res.headers['x-cache'] === 'MISS')).toHaveLength(1);
      expect(runs).toHaveBeenCalledTimes(1);
    } finally {
      runs.mockRestore();
    }
  });

  it('keeps a total per filter', async () => {
    const seller = await signedInSeller(ctx.app);
    const [a, b] = [await createCategory(), await createCategory()];
    await request(ctx.app).post('/api/products').set('Authorization', seller.bearer).send(productBody({ categoryId: a.id }));
    const inA = await request(ctx.app).get('/api/products').query({ category: a.id });
    const inB = await request(ctx.app).get('/api/products').query({ category: b.id });
    expect(inA.body.data.pagination.total).toBe(1);
    expect(inB.body.data.pagination.total).toBe(0);
    const pastTheEnd = await request(ctx.app).get('/api/products').query({ category: a.id, page: 5 });
    expect(pastTheEnd.body.data).toEqual({ products: [], pagination: { page: 5, limit: 20, total: 1, totalPages: 1 } });
  });

  it('answers anonymous catalog reads from the cache until a catalog write, and never signed-in ones', async () => {
    const seller = await signedInSeller(ctx.app);
    const category = await createCategory();
    const url = `/api/products?category=${category.id}&sortBy=price`;
    const first = await request(ctx.app).get(url);
    expect(first.headers['x-cache']).toBe('MISS');
    const second = await request(ctx.app).get(url);
    expect(second.headers['x-cache']).toBe('HIT');
    expect(second.body).toEqual(first.body);
    expect(second.headers['x-request-id']).not.toBe(first.headers['x-request-id']);

    const signedIn = await signedInUser(ctx.app);
    const personal = await request(ctx.app).get(url).set('Authorization', signedIn.bearer);
    expect(personal.headers['x-cache']).toBeUndefined();

    const created = await request(ctx.app).post('/api/products').set('Authorization', seller.bearer).send(productBody({ categoryId: category.id }));
    expect(created.status).toBe(201);
    const after = await request(ctx.app).get(url);
    expect(after.headers['x-cache']).toBe('MISS');
    expect(after.body.data.products.map((p: { id: string }) => p.id)).toEqual([created.body.data.id]);
  });

  it('keys answers on the validated query: 950 spellings of one page share one entry', async () => {
    const category = await createCategory();
    // page=1, page=01 … page=0…01, and limit=20 … 0…020, in both orders: 950 URLs, one query.
    const urls = Array.from({ length: 950 }, (_, i) => {
      const page = `page=${'0'.repeat(i % 50)}1`;
      const limit = `limit=${'0'.repeat(Math.floor(i / 50) % 10)}20`;
      return i < 500 ? `/api/products?category=${category.id}&${page}&${limit}` : `/api/products?${limit}&${page}&category=${category.id}`;
    });
    expect(new Set(urls).size).toBe(950);
    const before = responseCacheStats();
    const first = await request(ctx.app).get(urls[0]);
    expect(first.headers['x-cache']).toBe('MISS');
    for (const url of urls.slice(1)) {
      const res = await request(ctx.app).get(url);
      expect({ url, cache: res.headers['x-cache'] }).toEqual({ url, cache: 'HIT' });
    }
    const plain = await request(ctx.app).get('/api/products').query({ category: category.id });
    expect(plain.headers['x-cache']).toBe('HIT');
    expect(plain.body).toEqual(first.body);
    expect(responseCacheStats().entries).toBe(before.entries + 1);

    // Parameters that would not validate neither hit nor fill the cache.
    const junk = await request(ctx.app).get(`/api/products?category=${category.id}&utm=${'x'.repeat(100)}`);
    expect(junk.status).toBe(400);
    expect(junk.headers['x-cache']).toBeUndefined();
    expect(responseCacheStats().entries).toBe(before.entries + 1);
  });

  it('keys single resources on their validated path parameter', async () => {
    const category = await createCategory();
    const first = await request(ctx.app).get(`/api/categories/${category.slug}`);
    expect(first.headers['x-cache']).toBe('MISS');
    const upper = await request(ctx.app).get(`/api/categories/${category.slug.toUpperCase()}`);
    expect(upper.status).toBe(200);
    expect(upper.headers['x-cache']).toBe('HIT');
    expect(upper.body).toEqual(first.body);
    const tree = await request(ctx.app).get('/api/categories');
    expect(tree.headers['x-cache']).toBe('MISS');
    expect((await request(ctx.app).get('/api/categories')).headers['x-cache']).toBe('HIT');
  });

  it('never caches failures, and validates every request that is not a hit', async () => {
    const bad = '/api/products?sortBy=nonsense';
    expect((await request(ctx.app).get(bad)).status).toBe(400);
    const again = await request(ctx.app).get(bad);
    expect(again.status).toBe(400);
    expect(again.headers['x-cache']).toBeUndefined();
  });

  it('sends a kept answer byte for byte with the ETag of its miss, and answers If-None-Match with 304 from the cache', async () => {
    const seller = await signedInSeller(ctx.app);
    await request(ctx.app).post('/api/products').set('Authorization', seller.bearer).send(productBody({ name: 'Crème brûlée torch ✓' })).expect(201);
    const url = `/api/products?sellerId=${seller.user.id}`;
    const miss = await request(ctx.app).get(url).expect(200);
    const hit = await request(ctx.app).get(url).expect(200);
    expect([miss.headers['x-cache'], hit.headers['x-cache']]).toEqual(['MISS', 'HIT']);
    expect(miss.headers.etag).toMatch(/^W\/"[0-9a-f]+-/);
    expect(hit.headers.etag).toBe(miss.headers.etag);
    expect(hit.text).toBe(miss.text);
    expect(hit.body.data.products[0].name).toBe('Crème brûlée torch ✓');
    expect([hit.headers['content-type'], Number(hit.headers['content-length'])]).toEqual(['application/json; charset=utf-8', Buffer.byteLength(miss.text)]);
    const notModified = await request(ctx.app).get(url).set('If-None-Match', miss.headers.etag);
    expect([notModified.status, notModified.headers['x-cache'], notModified.text]).toEqual([304, 'HIT', '']);
    // A signed-in caller's answer is not kept, and still gets its own ETag.
    const signedIn = await request(ctx.app).get(url).set('Authorization', seller.bearer).expect(200);
    expect([signedIn.headers['x-cache'], typeof signedIn.headers.etag]).toEqual([undefined, 'string']);
  });

  it('counts a view for every anonymous product read, from the cache or not', async () => {
    const seller = await signedInSeller(ctx.app);
    const created = await request(ctx.app).post('/api/products').set('Authorization', seller.bearer).send(productBody());
    const url = `/api/products/${created.body.data.slug}`;
    const statuses = [];
    for (let i = 0; i < 3; i += 1) statuses.push((await request(ctx.app).get(url)).headers['x-cache']);
    expect(statuses).toEqual(['MISS', 'HIT', 'HIT']);
    await flushViews();
    expect((await Product.findByPk(created.body.data.id))?.viewCount).toBe(3);

    await request(ctx.app).patch(`/api/products/${created.body.data.id}`).set('Authorization', seller.bearer).send({ status: 'draft' });
    expect((await request(ctx.app).get(url)).status).toBe(404);
  });
});
