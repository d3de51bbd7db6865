import request from 'supertest';
import { OrderItem, Product } from '../../src/models';
import { scheduleRepeatingJobs } from '../../src/jobs';
import { flushViews } from '../../src/modules/catalog/view-counter.service';
import { createAdmin, createCategory, createOrderItem, createProduct, createSeller, createUser, uniqueSuffix } from '../fixtures';
import { useTestApp } from '../support/app';
import { login, signedInUser } from '../support/auth';
import { productBody, signedInSeller, type SignedInSeller } from '../support/catalog';

const PRIVATE_KEYS = ['costPrice', 'lowStockThreshold', 'searchVector', 'search_vector', 'deletedAt'];

function expectPublicShape(product: Record<string, unknown>): void {
  for (const key of PRIVATE_KEYS) expect(product).not.toHaveProperty(key);
}

describe('products', () => {
  const ctx = useTestApp();
  let seller: SignedInSeller;
  let otherSeller: SignedInSeller;
  let adminBearer: string;

  beforeAll(async () => {
    seller = await signedInSeller(ctx.app);
    otherSeller = await signedInSeller(ctx.app);
    const admin = await createAdmin();
    adminBearer = `Bearer ${(await login(ctx.app, admin.email)).accessToken}`;
  });

  async function createAs(bearer: string, overrides: Record<string, unknown> = {}) {
    return request(ctx.app).post('/api/products').set('Authorization', bearer).send(productBody(overrides));
  }

  async function productCount(): Promise<number> {
    return Product.count({ paranoid: false });
  }

  describe('create', () => {
    it('lets an approved seller create a product, with a slug, normalised tags and money strings', async () => {
      const category = await createCategory();
      const res = await createAs(seller.bearer, {
        categoryId: category.id,
        tags: [' Audio', 'audio ', 'WIRELESS', 'Noise Cancelling'],
        dimensions: { length: 20, width: 18.5, height: 9, unit: 'cm' },
        weight: 0.35,
      });
      expect(res.status).toBe(201);
      expect(res.body.success).toBe(true);
      const product = res.body.data;
      expect(product).toMatchObject({
        name: 'Studio Wireless Headphones',
        slug: expect.stringMatching(/^studio-wireless-headphones/),
        price: '199.99',
        comparePrice: '249.99',
        costPrice: '120.00',
        discountPercentage: 20,
        inStock: true,
        stockQuantity: 10,
        status: 'active',
        tags: ['audio', 'wireless', 'noise cancelling'],
        weight: '0.35',
        dimensions: { length: 20, width: 18.5, height: 9, unit: 'cm' },
        seller: { id: seller.user.id, name: seller.user.name, storeName: seller.profile.storeName },
        category: { id: category.id, name: category.name, slug: category.slug },
      });
      expect(product).not.toHaveProperty('searchVector');
      expect(product).not.toHaveProperty('search_vector');
      const stored = await Product.findByPk(product.id);
      expect(stored?.sellerId).toBe(seller.user.id);
    });

    it('makes the slug unique with a suffix when the name is taken', async () => {
      const name = `Desk Lamp ${uniqueSuffix()}`;
      const first = await createAs(seller.bearer, { name });
      const second = await createAs(otherSeller.bearer, { name });
      expect(first.status).toBe(201);
      expect(second.status).toBe(201);
      expect(second.body.data.slug).not.toBe(first.body.data.slug);
      expect(second.body.data.slug.startsWith(first.body.data.slug)).toBe(true);
    });

    it('answers 409 SKU_EXISTS for a SKU the seller already uses, and lets another seller use it', async () => {
      const sku = `DUP-${uniqueSuffix()}`;
      expect((await createAs(seller.bearer, { sku })).status).toBe(201);
      const before = await productCount();
      const duplicate = await createAs(seller.bearer, { sku, name: 'Another name entirely' });
      expect(duplicate.status).toBe(409);
      expect(duplicate.body.error.code).toBe('SKU_EXISTS');
      expect(await productCount()).toBe(before);
      expect((await createAs(otherSeller.bearer, { sku })).status).toBe(201);
    });

    it('stores an active product without stock as out_of_stock', async () => {
      const res = await createAs(seller.bearer, { stockQuantity: 0, status: 'active' });
      expect(res.status).toBe(201);
      expect(res.body.data).toMatchObject({ status: 'out_of_stock', inStock: false });
    });

    it.each([
      ['a price of 0', { price: 0 }],
      ['a negative price', { price: '-5.00' }],
      ['a price over 999999.99', { price: '1000000.00' }],
      ['a price with three decimals', { price: 19.999 }],
      ['a compare price equal to the price', { price: '10.00', comparePrice: '10.00' }],
      ['a compare price below the price', { price: '10.00', comparePrice: '9.99' }],
      ['a negative cost price', { costPrice: '-1.00' }],
      ['11 images', { images: Array.from({ length: 11 }, (_, i) => `https://img.example.com/${i}.jpg`) }],
      ['a non-http image', { images: ['ftp://img.example.com/1.jpg'] }],
      ['21 tags', { tags: Array.from({ length: 21 }, (_, i) => `tag${i}`) }],
      ['a tag of 51 characters', { tags: ['x'.repeat(51)] }],
      ['a negative dimension', { dimensions: { length: -1, width: 2, height: 3 } }],
      ['a dimension that is not a number', { dimensions: { length: 'big', width: 2, height: 3 } }],
      ['a one-letter name', { name: 'x' }],
      ['a name of 256 characters', { name: 'x'.repeat(256) }],
      ['a short description under 10 characters', { shortDescription: 'short' }],
      ['a description under 10 characters', { description: 'tiny' }],
      ['a description over 10000 characters', { description: 'x'.repeat(10_001) }],
      ['a one-character SKU', { sku: 'x' }],
      ['a negative stock', { stockQuantity: -1 }],
      ['a fractional stock', { stockQuantity: 1.5 }],
      ['the derived status out_of_stock', { status: 'out_of_stock' }],
      ['an unknown field', { featured: true }],
      ['a malformed categoryId', { categoryId: 'not-a-uuid' }],
      ['a categoryId that names nothing', { categoryId: '00000000-0000-4000-8000-000000000000' }],
      ['no price', { price: undefined }],
    ])('answers 400 VALIDATION_ERROR for %s and creates nothing', async (_label, overrides) => {
      const before = await productCount();
      const res = await createAs(seller.bearer, overrides);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION_ERROR');
      expect(res.body.error.details.length).toBeGreaterThan(0);
      expect(await productCount()).toBe(before);
    });

    it('refuses a customer with 403 INSUFFICIENT_PERMISSIONS and an anonymous caller with 401', async () => {
      const customer = await signedInUser(ctx.app);
      const before = await productCount();
      const res = await createAs(customer.bearer);
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe('INSUFFICIENT_PERMISSIONS');
      const anonymous = await request(ctx.app).post('/api/products').send(productBody());
      expect(anonymous.status).toBe(401);
      expect(await productCount()).toBe(before);
    });

    it('refuses a sellerId from a seller', async () => {
      const res = await createAs(seller.bearer, { sellerId: otherSeller.user.id });
      expect(res.status).toBe(400);
      expect(res.body.error.details[0].field).toBe('sellerId');
    });

    it('lets an admin create a product for an approved seller named by sellerId, and only for one', async () => {
      const res = await createAs(adminBearer, { sellerId: otherSeller.user.id });
      expect(res.status).toBe(201);
      expect(res.body.data.seller.id).toBe(otherSeller.user.id);

      const before = await productCount();
      const missing = await createAs(adminBearer);
      expect(missing.status).toBe(400);
      expect(missing.body.error.details[0].field).toBe('sellerId');
      const customer = await createUser();
      const notSeller = await createAs(adminBearer, { sellerId: customer.id });
      expect(notSeller.status).toBe(400);
      const pending = await createSeller({ user: { status: 'pending' } });
      expect((await createAs(adminBearer, { sellerId: pending.user.id })).status).toBe(400);
      expect(await productCount()).toBe(before);
    });
  });

  describe('update and delete', () => {
    it('lets the owner change fields; the slug stays; comparePrice is checked against the stored price', async () => {
      const created = (await createAs(seller.bearer, { price: '50.00', comparePrice: '80.00' })).body.data;
      const res = await request(ctx.app)
        .patch(`/api/products/${created.id}`)
        .set('Authorization', seller.bearer)
        .send({ name: 'Renamed Headphones', price: '60.00', tags: ['Sale', 'sale'] });
      expect(res.status).toBe(200);
      expect(res.body.data).toMatchObject({ name: 'Renamed Headphones', slug: created.slug, price: '60.00', comparePrice: '80.00', tags: ['sale'] });

      const tooLow = await request(ctx.app).patch(`/api/products/${created.id}`).set('Authorization', seller.bearer).send({ comparePrice: '59.99' });
      expect(tooLow.status).toBe(400);
      expect(tooLow.body.error.code).toBe('VALIDATION_ERROR');
      const priceAbove = await request(ctx.app).patch(`/api/products/${created.id}`).set('Authorization', seller.bearer).send({ price: '85.00' });
      expect(priceAbove.status).toBe(400);
      const both = await request(ctx.app)
        .patch(`/api/products/${created.id}`)
        .set('Authorization', seller.bearer)
        .send({ price: '85.00', comparePrice: '80.00' });
      expect(both.status).toBe(400);

      const stored = await Product.findByPk(created.id);
      expect(stored).toMatchObject({ price: '60.00', comparePrice: '80.00' });
      const cleared = await request(ctx.app)
        .patch(`/api/products/${created.id}`)
        .set('Authorization', seller.bearer)
        .send({ price: '85.00', comparePrice: null });
      expect(cleared.status).toBe(200);
      expect(cleared.body.data).toMatchObject({ price: '85.00', comparePrice: null, discountPercentage: 0 });
    });

    it('keeps status and stock in step: 0 stock → out_of_stock, stock back → active', async () => {
      const created = (await createAs(seller.bearer, { stockQuantity: 3 })).body.data;
      const patch = (body: object) => request(ctx.app).patch(`/api/products/${created.id}`).set('Authorization', seller.bearer).send(body);

      const empty = await patch({ stockQuantity: 0 });
      expect(empty.body.data).toMatchObject({ status: 'out_of_stock', inStock: false });
      const refilled = await patch({ stockQuantity: 7 });
      expect(refilled.body.data).toMatchObject({ status: 'active', inStock: true, stockQuantity: 7 });
      const inactive = await patch({ status: 'inactive', stockQuantity: 0 });
      expect(inactive.body.data.status).toBe('inactive');
      const reactivated = await patch({ status: 'active' });
      expect(reactivated.body.data.status).toBe('out_of_stock');
      expect((await Product.findByPk(created.id))?.status).toBe('out_of_stock');
    });

    it('answers 409 SKU_EXISTS when a change takes a SKU the seller uses', async () => {
      const first = (await createAs(seller.bearer)).body.data;
      const second = (await createAs(seller.bearer)).body.data;
      const res = await request(ctx.app).patch(`/api/products/${second.id}`).set('Authorization', seller.bearer).send({ sku: first.sku });
      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe('SKU_EXISTS');
      expect((await Product.findByPk(second.id))?.sku).toBe(second.sku);
    });

    it("refuses another seller's public product with 403 RESOURCE_ACCESS_DENIED and changes nothing", async () => {
      const created = (await createAs(seller.bearer, { price: '42.00' })).body.data;
      const res = await request(ctx.app).patch(`/api/products/${created.id}`).set('Authorization', otherSeller.bearer).send({ price: '1.00' });
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe('RESOURCE_ACCESS_DENIED');
      const removed = await request(ctx.app).delete(`/api/products/${created.id}`).set('Authorization', otherSeller.bearer);
      expect(removed.status).toBe(403);
      expect(removed.body.error.code).toBe('RESOURCE_ACCESS_DENIED');
      const stored = await Product.findByPk(created.id);
      expect(stored).toMatchObject({ price: '42.00', deletedAt: null });
    });

    it("answers 404 for another seller's draft, which they cannot know exists", async () => {
      const draft = (await createAs(seller.bearer, { status: 'draft' })).body.data;
      const res = await request(ctx.app).patch(`/api/products/${draft.id}`).set('Authorization', otherSeller.bearer).send({ name: 'Mine now' });
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('PRODUCT_NOT_FOUND');
      expect((await Product.findByPk(draft.id))?.name).toBe(draft.name);
    });

    it('refuses a customer, and answers 404 for malformed and unknown ids', async () => {
      const created = (await createAs(seller.bearer)).body.data;
      const customer = await signedInUser(ctx.app);
      const res = await request(ctx.app).patch(`/api/products/${created.id}`).set('Authorization', customer.bearer).send({ name: 'Hacked' });
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe('INSUFFICIENT_PERMISSIONS');
      for (const id of ['not-a-uuid', '123', "1' OR '1'='1", '00000000-0000-4000-8000-000000000000']) {
        const patch = await request(ctx.app).patch(`/api/products/${encodeURIComponent(id)}`).set('Authorization', seller.bearer).send({ name: 'Whatever' });
        expect(patch.status).toBe(404);
        expect(patch.body.error.code).toBe('PRODUCT_NOT_FOUND');
        const removed = await request(ctx.app).delete(`/api/products/${encodeURIComponent(id)}`).set('Authorization', seller.bearer);
        expect(removed.status).toBe(404);
      }
      expect((await Product.findByPk(created.id))?.name).toBe(created.name);
    });

    it('rejects an empty or unknown-field change with 400', async () => {
      const created = (await createAs(seller.bearer)).body.data;
      for (const body of [{}, { sellerId: otherSeller.user.id }, { viewCount: 1000 }, { slug: 'chosen-slug' }, { stockQuantity: -3 }]) {
        const res = await request(ctx.app).patch(`/api/products/${created.id}`).set('Authorization', seller.bearer).send(body);
        expect(res.status).toBe(400);
        expect(res.body.error.code).toBe('VALIDATION_ERROR');
      }
    });

    it('lets an admin change and delete any product', async () => {
      const created = (await createAs(seller.bearer)).body.data;
      const res = await request(ctx.app).patch(`/api/products/${created.id}`).set('Authorization', adminBearer).send({ status: 'inactive' });
      expect(res.status).toBe(200);
      expect(res.body.data.status).toBe('inactive');
      expect(res.body.data.costPrice).toBe('120.00');
      expect((await request(ctx.app).delete(`/api/products/${created.id}`).set('Authorization', adminBearer)).status).toBe(200);
    });

    it('soft-deletes: the product disappears, order lines keep it, and its SKU is free again', async () => {
      const created = (await createAs(seller.bearer)).body.data;
      const line = await createOrderItem({ productId: created.id });
      const res = await request(ctx.app).delete(`/api/products/${created.id}`).set('Authorization', seller.bearer);
      expect(res.status).toBe(200);
      expect(res.body.data).toEqual({ id: created.id });

      expect((await request(ctx.app).get(`/api/products/${created.id}`)).status).toBe(404);
      expect((await request(ctx.app).get(`/api/products/${created.id}`).set('Authorization', seller.bearer)).status).toBe(404);
      expect((await request(ctx.app).delete(`/api/products/${created.id}`).set('Authorization', seller.bearer)).status).toBe(404);
      const listed = await request(ctx.app).get('/api/products').query({ sellerId: seller.user.id, limit: 100 });
      expect(listed.body.data.products.map((p: { id: string }) => p.id)).not.toContain(created.id);

      const row = await Product.findByPk(created.id, { paranoid: false });
      expect(row?.deletedAt).toBeInstanceOf(Date);
      expect((await OrderItem.findByPk(line.id))?.productId).toBe(created.id);
      expect((await createAs(seller.bearer, { sku: created.sku })).status).toBe(201);
    });
  });

  describe('one product', () => {
    it('is found by id and by slug, with seller, category, discount and stock, and no private fields', async () => {
      const category = await createCategory();
      const created = (await createAs(seller.bearer, { categoryId: category.id })).body.data;
      for (const key of [created.id, created.slug]) {
        const res = await request(ctx.app).get(`/api/products/${key}`);
        expect(res.status).toBe(200);
        expect(res.body.data).toMatchObject({
          id: created.id,
          slug: created.slug,
          description: created.description,
          price: '199.99',
          discountPercentage: 20,
          inStock: true,
          seller: { id: seller.user.id, name: seller.user.name, storeName: seller.profile.storeName },
          category: { id: category.id, name: category.name, slug: category.slug },
        });
        expectPublicShape(res.body.data);
      }
    });

    it('shows drafts and inactive products only to their seller and admins, with costPrice', async () => {
      const customer = await signedInUser(ctx.app);
      for (const status of ['draft', 'inactive']) {
        const created = (await createAs(seller.bearer, { status })).body.data;
        for (const bearer of [undefined, customer.bearer, otherSeller.bearer]) {
          const req = request(ctx.app).get(`/api/products/${created.slug}`);
          const res = bearer ? await req.set('Authorization', bearer) : await req;
          expect(res.status).toBe(404);
          expect(res.body.error.code).toBe('PRODUCT_NOT_FOUND');
        }
        for (const bearer of [seller.bearer, adminBearer]) {
          const res = await request(ctx.app).get(`/api/products/${created.id}`).set('Authorization', bearer);
          expect(res.status).toBe(200);
          expect(res.body.data).toMatchObject({ status, costPrice: '120.00', lowStockThreshold: 10 });
        }
      }
    });

    it('shows a sold-out product to anyone, marked out of stock', async () => {
      const created = (await createAs(seller.bearer, { stockQuantity: 0 })).body.data;
      const res = await request(ctx.app).get(`/api/products/${created.id}`);
      expect(res.status).toBe(200);
      expect(res.body.data).toMatchObject({ status: 'out_of_stock', inStock: false });
    });

    it('answers 404 PRODUCT_NOT_FOUND for unknown and malformed keys, never a 500', async () => {
      for (const key of ['00000000-0000-4000-8000-000000000000', 'no-such-product', 'not a slug', "x'; DROP TABLE products; --", '%25', 'ÄÖ', 'a'.repeat(400)]) {
        const res = await request(ctx.app).get(`/api/products/${encodeURIComponent(key)}`);
        expect(res.status).toBe(404);
        expect(res.body.error.code).toBe('PRODUCT_NOT_FOUND');
      }
    });

    it('refuses a bad token rather than answering anonymously', async () => {
      const created = (await createAs(seller.bearer)).body.data;
      const res = await request(ctx.app).get(`/api/products/${created.id}`).set('Authorization', 'Bearer not-a-token');
      expect(res.status).toBe(401);
    });
  });

  describe('related products', () => {
    it('lists other active products of the same category, best rated first', async () => {
      const category = await createCategory();
      const other = await createCategory();
      const sellerId = seller.user.id;
      const self = await createProduct({ sellerId, categoryId: category.id, averageRating: '4.00' });
      const best = await createProduct({ sellerId, categoryId: category.id, averageRating: '4.90' });
      const good = await createProduct({ sellerId, categoryId: category.id, averageRating: '3.50' });
      await createProduct({ sellerId, categoryId: category.id, status: 'draft', averageRating: '5.00' });
      await createProduct({ sellerId, categoryId: category.id, stockQuantity: 0, averageRating: '5.00' });
      await createProduct({ sellerId, categoryId: other.id, averageRating: '5.00' });
      const deleted = await createProduct({ sellerId, categoryId: category.id, averageRating: '5.00' });
      await deleted.destroy();

      const res = await request(ctx.app).get(`/api/products/${self.id}/related`);
      expect(res.status).toBe(200);
      expect(res.body.data.products.map((p: { id: string }) => p.id)).toEqual([best.id, good.id]);
      expectPublicShape(res.body.data.products[0]);
      const one = await request(ctx.app).get(`/api/products/${self.id}/related`).query({ limit: 1 });
      expect(one.body.data.products.map((p: { id: string }) => p.id)).toEqual([best.id]);
    });

    it('answers an empty list for a product without category, 404 for unknown ids, 400 for a bad limit', async () => {
      const lone = await createProduct({ sellerId: seller.user.id });
      const res = await request(ctx.app).get(`/api/products/${lone.id}/related`);
      expect(res.status).toBe(200);
      expect(res.body.data.products).toEqual([]);
      expect((await request(ctx.app).get('/api/products/00000000-0000-4000-8000-000000000000/related')).status).toBe(404);
      expect((await request(ctx.app).get('/api/products/not-a-uuid/related')).status).toBe(404);
      for (const limit of ['0', '21', '-1', 'many']) {
        const bad = await request(ctx.app).get(`/api/products/${lone.id}/related`).query({ limit });
        expect(bad.status).toBe(400);
        expect(bad.body.error.code).toBe('VALIDATION_ERROR');
      }
    });
  });

  describe('listing', () => {
    interface Row {
      id: string;
      price: string;
      name: string;
      [key: string]: unknown;
    }
    let shopId: string;
    let root: Awaited<ReturnType<typeof createCategory>>;
    let child: Awaited<ReturnType<typeof createCategory>>;
    let grandchild: Awaited<ReturnType<typeof createCategory>>;
    let elsewhere: Awaited<ReturnType<typeof createCategory>>;
    const made: Record<string, Product> = {};

    const list = (query: Record<string, unknown>) => request(ctx.app).get('/api/products').query(query);
    const ids = (res: request.Response) => (res.body.data.products as Row[]).map((row) => row.id);

    beforeAll(async () => {
      const shop = await createSeller();
      shopId = shop.user.id;
      root = await createCategory();
      child = await createCategory({ parentId: root.id });
      grandchild = await createCategory({ parentId: child.id });
      elsewhere = await createCategory();
      const base = { sellerId: shopId };
      made.rootItem = await createProduct({ ...base, name: 'Alpha Root Item', categoryId: root.id, price: '10.00', tags: ['eco', 'gift'], averageRating: '4.50', viewCount: 5 });
      made.childItem = await createProduct({ ...base, name: 'Bravo Child Item', categoryId: child.id, price: '20.00', comparePrice: '25.00', tags: ['eco'], averageRating: '3.00', viewCount: 50 });
      made.grandItem = await createProduct({ ...base, name: 'Charlie Grand Item', categoryId: grandchild.id, price: '30.00', tags: ['gift', 'eco', 'sale'], averageRating: '5.00', viewCount: 1 });
      made.elsewhereItem = await createProduct({ ...base, name: 'Delta Elsewhere Item', categoryId: elsewhere.id, price: '40.00', tags: ['sale'], averageRating: '1.00', viewCount: 500 });
      made.soldOut = await createProduct({ ...base, name: 'Echo Sold Out Item', categoryId: child.id, price: '15.00', stockQuantity: 0, tags: ['eco', 'gift'], averageRating: '2.00', viewCount: 0 });
      made.draft = await createProduct({ ...base, name: 'Draft Item', categoryId: root.id, status: 'draft', price: '12.00', tags: ['eco'] });
      made.inactive = await createProduct({ ...base, name: 'Inactive Item', categoryId: root.id, status: 'inactive', price: '13.00', tags: ['eco'] });
      made.deleted = await createProduct({ ...base, name: 'Deleted Item', categoryId: root.id, price: '14.00', tags: ['eco'] });
      await made.deleted.destroy();
    });

    it('lists active and sold-out products only, with summaries, discount, stock flag and no private fields', async () => {
      const res = await list({ sellerId: shopId });
      expect(res.status).toBe(200);
      expect(res.body.success).toBe(true);
      expect(res.body.data.pagination).toEqual({ page: 1, limit: 20, total: 5, totalPages: 1 });
      expect(new Set(ids(res))).toEqual(new Set([made.rootItem.id, made.childItem.id, made.grandItem.id, made.elsewhereItem.id, made.soldOut.id]));
      const row = (res.body.data.products as Row[]).find((product) => product.id === made.childItem.id)!;
      expect(row).toMatchObject({
        price: '20.00',
        comparePrice: '25.00',
        discountPercentage: 20,
        inStock: true,
        seller: { id: shopId, name: expect.any(String), storeName: expect.any(String) },
        category: { id: child.id, name: child.name, slug: child.slug },
      });
      expectPublicShape(row);
      expect(row).not.toHaveProperty('description');
      expect(row).not.toHaveProperty('sku');
      const soldOut = (res.body.data.products as Row[]).find((product) => product.id === made.soldOut.id)!;
      expect(soldOut).toMatchObject({ status: 'out_of_stock', inStock: false });
    });

    it('never lists drafts, inactive or deleted products, whatever the filters', async () => {
      const hidden = [made.draft.id, made.inactive.id, made.deleted.id];
      for (const query of [{}, { sellerId: shopId }, { category: root.id }, { tags: 'eco' }, { search: 'item' }, { inStock: false }]) {
        const res = await list({ ...query, limit: 100 });
        expect(res.status).toBe(200);
        for (const id of hidden) expect(ids(res)).not.toContain(id);
      }
    });

    it('filters by category id or slug, including every descendant', async () => {
      const byId = await list({ category: root.id, sortBy: 'price' });
      expect(ids(byId)).toEqual([made.rootItem.id, made.soldOut.id, made.childItem.id, made.grandItem.id]);
      const bySlug = await list({ category: child.slug, sortBy: 'price' });
      expect(ids(bySlug)).toEqual([made.soldOut.id, made.childItem.id, made.grandItem.id]);
      const leaf = await list({ category: grandchild.slug });
      expect(ids(leaf)).toEqual([made.grandItem.id]);
      const unknown = await list({ category: 'no-such-category' });
      expect(unknown.status).toBe(200);
      expect(unknown.body.data).toEqual({ products: [], pagination: { page: 1, limit: 20, total: 0, totalPages: 0 } });
    });

    it('filters by price range, tags (all of them, comma-separated or repeated) and stock', async () => {
      expect(ids(await list({ sellerId: shopId, minPrice: '15', maxPrice: 30, sortBy: 'price' }))).toEqual([made.soldOut.id, made.childItem.id, made.grandItem.id]);
      expect(ids(await list({ sellerId: shopId, minPrice: '20.00', maxPrice: '20.00' }))).toEqual([made.childItem.id]);
      const both = await list({ sellerId: shopId, tags: 'eco,GIFT', sortBy: 'price' });
      expect(ids(both)).toEqual([made.rootItem.id, made.soldOut.id, made.grandItem.id]);
      const repeated = await request(ctx.app).get(`/api/products?sellerId=${shopId}&tags=gift&tags=sale`);
      expect(ids(repeated)).toEqual([made.grandItem.id]);
      expect(ids(await list({ sellerId: shopId, inStock: true, tags: 'eco', sortBy: 'price' }))).toEqual([made.rootItem.id, made.childItem.id, made.grandItem.id]);
      expect(ids(await list({ sellerId: shopId, inStock: 'false' }))).toEqual([made.soldOut.id]);
    });

    it('sorts by each whitelisted key in both directions', async () => {
      const all = [made.rootItem, made.childItem, made.grandItem, made.elsewhereItem, made.soldOut];
      const by = (key: (p: Product) => number | string) => [...all].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0)).map((p) => p.id);
      const cases: Array<[string, string[]]> = [
        ['price', by((p) => Number(p.price))],
        ['name', by((p) => p.name)],
        ['averageRating', by((p) => Number(p.averageRating))],
        ['viewCount', by((p) => p.viewCount)],
        ['createdAt', by((p) => p.createdAt.getTime())],
      ];
      for (const [sortBy, ascending] of cases) {
        expect(ids(await list({ sellerId: shopId, sortBy, sortOrder: 'asc' }))).toEqual(ascending);
        expect(ids(await list({ sellerId: shopId, sortBy, sortOrder: 'desc' }))).toEqual([...ascending].reverse());
      }
      // Without sortOrder: newest first, cheapest first.
      expect(ids(await list({ sellerId: shopId }))).toEqual(cases[4][1].slice().reverse());
      expect(ids(await list({ sellerId: shopId, sortBy: 'price' }))).toEqual(cases[0][1]);
    });

    it('pages stably through equal sort keys, and a page past the end is empty with the right total', async () => {
      const tied = await createSeller();
      const createdAt = new Date('2024-01-01T00:00:00Z');
      const rows = [];
      for (let i = 0; i < 7; i += 1) rows.push(await createProduct({ sellerId: tied.user.id, price: '9.99' }));
      await Product.update({ createdAt }, { where: { sellerId: tied.user.id } });
      const seen: string[] = [];
      for (let page = 1; page <= 3; page += 1) {
        const res = await list({ sellerId: tied.user.id, sortBy: 'price', limit: 3, page });
        expect(res.body.data.pagination).toEqual({ page, limit: 3, total: 7, totalPages: 3 });
        seen.push(...ids(res));
      }
      expect(seen).toHaveLength(7);
      expect(new Set(seen)).toEqual(new Set(rows.map((row) => row.id)));
      const byDate = [];
      for (let page = 1; page <= 3; page += 1) byDate.push(...ids(await list({ sellerId: tied.user.id, limit: 3, page })));
      expect(new Set(byDate).size).toBe(7);

      const beyond = await list({ sellerId: tied.user.id, limit: 3, page: 50 });
      expect(beyond.status).toBe(200);
      expect(beyond.body.data).toEqual({ products: [], pagination: { page: 50, limit: 3, total: 7, totalPages: 3 } });
    });

    it('filters with the same full-text search as /search', async () => {
      const res = await list({ sellerId: shopId, search: 'charl' });
      expect(ids(res)).toEqual([made.grandItem.id]);
      expect(ids(await list({ sellerId: shopId, search: 'the' }))).toEqual([]);
      expect((await list({ sellerId: shopId, search: '' })).body.data.pagination.total).toBe(5);
    });

    it.each([
      ['an unknown sortBy', { sortBy: 'password' }],
      ['a SQL sortBy', { sortBy: 'price; DROP TABLE products' }],
      ['a column name as sortBy', { sortBy: 'cost_price' }],
      ['an unknown sortOrder', { sortOrder: 'sideways' }],
      ['page 0', { page: 0 }],
      ['a negative page', { page: -1 }],
      ['a huge page', { page: 10 ** 12 }],
      ['a fractional page', { page: 1.5 }],
      ['a page that is not a number', { page: 'two' }],
      ['limit 0', { limit: 0 }],
      ['a negative limit', { limit: -5 }],
      ['limit 101', { limit: 101 }],
      ['a huge limit', { limit: 1_000_000 }],
      ['minPrice above maxPrice', { minPrice: '50', maxPrice: '10' }],
      ['a negative minPrice', { minPrice: '-1' }],
      ['a price that is not an amount', { maxPrice: '10 OR 1=1' }],
      ['a malformed sellerId', { sellerId: "1' OR '1'='1" }],
      ['an inStock that is not a boolean', { inStock: 'maybe' }],
      ['a category with symbols', { category: "x' OR 1=1 --" }],
      ['an unknown parameter', { status: 'draft' }],
      ['a search of 5 kB', { search: 'lorem ipsum '.repeat(450) }],
    ])('answers 400 VALIDATION_ERROR for %s', async (_label, query) => {
      const res = await list(query);
      expect(res.status).toBe(400);
      expect(res.body.success).toBe(false);
      expect(res.body.error.code).toBe('VALIDATION_ERROR');
      expect(await Product.count({ where: { sellerId: shopId } })).toBe(7);
    });

    it('treats quotes, backslashes, wildcards and SQL in search and tags as text', async () => {
      for (const text of [`"`, `'`, `\\`, `%`, `_`, `'; DROP TABLE products; --`, `" OR 1=1 --`, `a\\'b`, `50%_off`, `):*|!&<->`]) {
        const res = await list({ search: text, tags: text.replace(/,/g, '') || 'x' });
        expect(res.status).toBe(200);
        expect(res.body.data.products).toEqual([]);
      }
      expect((await list({ sellerId: shopId })).body.data.pagination.total).toBe(5);
    });
  });

  describe('views', () => {
    it('counts reads without writing: view_count moves only when the counts are flushed', async () => {
      await flushViews();
      const created = (await createAs(seller.bearer)).body.data;
      const neighbour = (await createAs(seller.bearer)).body.data;
      const reads = 7;
      for (let i = 0; i < reads; i += 1) {
        const key = i % 2 === 0 ? created.id : created.slug;
        expect((await request(ctx.app).get(`/api/products/${key}`)).status).toBe(200);
      }
      // The seller's own reads are not views.
      await request(ctx.app).get(`/api/products/${created.id}`).set('Authorization', seller.bearer);
      expect((await Product.findByPk(created.id))?.viewCount).toBe(0);

      await flushViews();
      expect((await Product.findByPk(created.id))?.viewCount).toBe(reads);
      expect((await Product.findByPk(neighbour.id))?.viewCount).toBe(0);
      await flushViews();
      expect((await Product.findByPk(created.id))?.viewCount).toBe(reads);
    });

    it('flushes through the repeating maintenance job, which runs once at once', async () => {
      const created = (await createAs(seller.bearer)).body.data;
      for (let i = 0; i < 3; i += 1) await request(ctx.app).get(`/api/products/${created.slug}`);
      expect((await Product.findByPk(created.id))?.viewCount).toBe(0);
      await scheduleRepeatingJobs();
      await ctx.jobsIdle();
      expect((await Product.findByPk(created.id))?.viewCount).toBe(3);
    });
  });
});
