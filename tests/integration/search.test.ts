import request from 'supertest';
import { Product } from '../../src/models';
import { createCategory, createProduct, createSeller } from '../fixtures';
import { useTestApp } from '../support/app';

describe('product search', () => {
  const ctx = useTestApp();
  let sellerId: string;
  let audio: Awaited<ReturnType<typeof createCategory>>;
  let headphones: Awaited<ReturnType<typeof createCategory>>;
  const made: Record<string, Product> = {};

  const search = (query: Record<string, unknown>) => request(ctx.app).get('/api/products/search').query(query);
  const ids = (res: request.Response) => (res.body.data.products as Array<{ id: string }>).map((row) => row.id);

  beforeAll(async () => {
    sellerId = (await createSeller()).user.id;
    audio = await createCategory({ name: 'Audio gear' });
    headphones = await createCategory({ parentId: audio.id });
    const base = { sellerId, shortDescription: null, tags: [] as string[] };
    made.headphones = await createProduct({
      ...base,
      name: 'Wireless Headphones',
      description: 'Over-ear headphones with noise cancelling.',
      categoryId: headphones.id,
      price: '199.00',
      averageRating: '4.00',
    });
    made.headset = await createProduct({
      ...base,
      name: 'Gaming Headset',
      description: 'A headset with a boom microphone, for wireless play.',
      categoryId: audio.id,
      price: '89.00',
      averageRating: '4.80',
    });
    made.speaker = await createProduct({
      ...base,
      name: 'Bluetooth Speaker',
      description: 'A waterproof speaker that floats in the swimming pool.',
      tags: ['outdoor'],
      price: '49.00',
      averageRating: '3.00',
    });
    made.kettle = await createProduct({ ...base, name: 'Electric Kettle', description: 'Boils water in two minutes, wireless base.', price: '35.00', averageRating: '5.00' });
    made.draft = await createProduct({ ...base, name: 'Draft Headphones', description: 'Not yet for sale headphones.', status: 'draft' });
    made.inactive = await createProduct({ ...base, name: 'Retired Headphones', description: 'No longer sold headphones.', status: 'inactive' });
    made.deleted = await createProduct({ ...base, name: 'Deleted Headphones', description: 'Removed headphones listing.' });
    await made.deleted.destroy();
  });

  it('finds "headphones" from the prefix "head", and a visitor finds a product by a word of its description', async () => {
    const res = await search({ q: 'head' });
    expect(res.status).toBe(200);
    expect(res.body.data.query).toBe('head');
    expect(ids(res)).toEqual(expect.arrayContaining([made.headphones.id, made.headset.id]));
    expect(ids(res)).toHaveLength(2);
    expect(ids(await search({ q: 'swimming' }))).toEqual([made.speaker.id]);
    expect(ids(await search({ q: 'waterproof pool' }))).toEqual([made.speaker.id]);
    // Stemming: "floating" finds "floats".
    expect(ids(await search({ q: 'floating' }))).toEqual([made.speaker.id]);
    // Tags are searchable too.
    expect(ids(await search({ q: 'outdoor' }))).toEqual([made.speaker.id]);
  });

  it('combines words, and takes the last word as a prefix', async () => {
    // Both have "wireless" and a word starting with "head"; both words in the name rank first.
    expect(ids(await search({ q: 'wireless head' }))).toEqual([made.headphones.id, made.headset.id]);
    expect(ids(await search({ q: 'noise head' }))).toEqual([made.headphones.id]);
    expect(ids(await search({ q: 'wireless headphones' }))).toEqual([made.headphones.id]);
    expect(ids(await search({ q: 'microphone -wireless' }))).toEqual([]);
    expect(ids(await search({ q: '"noise cancelling"' }))).toEqual([made.headphones.id]);
  });

  it('ranks name matches above description matches, then by rating', async () => {
    const res = await search({ q: 'wireless' });
    // The name match first, although the others are better rated.
    expect(ids(res)[0]).toBe(made.headphones.id);
    expect(new Set(ids(res))).toEqual(new Set([made.headphones.id, made.headset.id, made.kettle.id]));
  });

  it('sorts by price, rating and date on demand', async () => {
    expect(ids(await search({ q: 'wireless', sortBy: 'price_low' }))).toEqual([made.kettle.id, made.headset.id, made.headphones.id]);
    expect(ids(await search({ q: 'wireless', sortBy: 'price_high' }))).toEqual([made.headphones.id, made.headset.id, made.kettle.id]);
    expect(ids(await search({ q: 'wireless', sortBy: 'rating' }))).toEqual([made.kettle.id, made.headset.id, made.headphones.id]);
    expect(ids(await search({ q: 'wireless', sortBy: 'newest' }))).toEqual([made.kettle.id, made.headset.id, made.headphones.id]);
  });

  it('filters by category (with sub-categories) and price, and paginates with a total', async () => {
    expect(new Set(ids(await search({ q: 'wireless', category: audio.slug })))).toEqual(new Set([made.headphones.id, made.headset.id]));
    expect(ids(await search({ q: 'wireless', category: headphones.id }))).toEqual([made.headphones.id]);
    expect(ids(await search({ q: 'wireless', minPrice: '50', maxPrice: '100' }))).toEqual([made.headset.id]);
    const first = await search({ q: 'wireless', sortBy: 'price_low', limit: 2 });
    expect(first.body.data.pagination).toEqual({ page: 1, limit: 2, total: 3, totalPages: 2 });
    const second = await search({ q: 'wireless', sortBy: 'price_low', limit: 2, page: 2 });
    expect(ids(second)).toEqual([made.headphones.id]);
    const beyond = await search({ q: 'wireless', limit: 2, page: 9 });
    expect(beyond.status).toBe(200);
    expect(beyond.body.data).toEqual({ products: [], query: 'wireless', pagination: { page: 9, limit: 2, total: 3, totalPages: 2 } });
  });

  it('never finds drafts, inactive or deleted products', async () => {
    const res = await search({ q: 'headphones', limit: 100 });
    expect(ids(res)).toEqual([made.headphones.id]);
  });

  it('answers rows with seller and category summaries and no private fields', async () => {
    const res = await search({ q: 'headphones' });
    const row = res.body.data.products[0];
    expect(row).toMatchObject({
      id: made.headphones.id,
      price: '199.00',
      seller: { id: sellerId, name: expect.any(String), storeName: expect.any(String) },
      category: { id: headphones.id, name: headphones.name, slug: headphones.slug },
      inStock: true,
      discountPercentage: 0,
    });
    for (const key of ['costPrice', 'searchVector', 'search_vector', 'rank', 'total', 'description', 'lowStockThreshold']) expect(row).not.toHaveProperty(key);
  });

  it('answers an empty list for queries of only stop words or symbols', async () => {
    for (const q of ['the', 'the and of', '!!!', '&|!', ':*', '()', '-', '""', 'or']) {
      const res = await search({ q });
      expect(res.status).toBe(200);
      expect(res.body.data.products).toEqual([]);
      expect(res.body.data.pagination.total).toBe(0);
    }
  });

  it('treats quotes, backslashes, wildcards and SQL as text, never a 500, and changes nothing', async () => {
    const texts = [
      `'`,
      `"`,
      `\\`,
      `\\'`,
      `%`,
      `_`,
      `%_%`,
      `head%`,
      `'; DROP TABLE products; --`,
      `" OR 1=1 --`,
      `headphones' OR '1'='1`,
      `SELECT * FROM users`,
      `head:* | kettle`,
      `wireless <-> (kettle & !boils)`,
      `\u0000`,
      `😀 head`,
      `café`,
    ];
    for (const q of texts) {
      const res = await search({ q });
      expect([200, 400]).toContain(res.status);
      expect(res.body.success).toBe(res.status === 200);
      if (res.status === 400) expect(res.body.error.code).toBe('VALIDATION_ERROR');
    }
    // Read as words (websearch syntax: "headphones or 1 1"), not as SQL: it does not match everything.
    expect(ids(await search({ q: `headphones' OR '1'='1` }))).toEqual([made.headphones.id]);
    expect(await Product.count({ where: { sellerId } })).toBe(6);
  });

  it.each([
    ['no q', {}],
    ['an empty q', { q: '' }],
    ['a blank q', { q: '    ' }],
    ['a q of 201 characters', { q: 'a'.repeat(201) }],
    ['a q of 5 kB', { q: 'headphones '.repeat(500) }],
    ['two q', { q: ['head', 'kettle'] }],
    ['an unknown sortBy', { q: 'head', sortBy: 'price' }],
    ['a SQL sortBy', { q: 'head', sortBy: 'rank DESC; DROP TABLE products' }],
    ['a limit of 101', { q: 'head', limit: 101 }],
    ['a negative page', { q: 'head', page: -2 }],
    ['minPrice above maxPrice', { q: 'head', minPrice: 100, maxPrice: 1 }],
    ['a list-only parameter', { q: 'head', sortOrder: 'asc' }],
  ])('answers 400 VALIDATION_ERROR for %s', async (_label, query) => {
    const res = await search(query);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_ERROR');
  });

  it('lets a visitor find a product by category, by a word of its description and by slug', async () => {
    const category = await createCategory({ name: 'Garden tools' });
    const product = await createProduct({ sellerId, categoryId: category.id, name: 'Brass Watering Can', description: 'Holds nine litres, with a detachable rose.' });
    const byCategory = await request(ctx.app).get('/api/products').query({ category: category.slug });
    expect(byCategory.body.data.products.map((row: { id: string }) => row.id)).toEqual([product.id]);
    expect(ids(await search({ q: 'litres' }))).toEqual([product.id]);
    expect(ids(await search({ q: 'detachable', category: category.id }))).toEqual([product.id]);
    const bySlug = await request(ctx.app).get(`/api/products/${product.slug}`);
    expect(bySlug.status).toBe(200);
    expect(bySlug.body.data.id).toBe(product.id);
  });
});
