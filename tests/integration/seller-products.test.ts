import request from 'supertest';
import type { Product } from '../../src/models';
import { createAdmin, createProduct } from '../fixtures';
import { useTestApp } from '../support/app';
import { login, signedInUser } from '../support/auth';
import { signedInSeller, type SignedInSeller } from '../support/catalog';

describe('seller dashboard: products', () => {
  const ctx = useTestApp();
  let seller: SignedInSeller;
  const own: Record<string, Product> = {};

  const mine = (query: Record<string, unknown> = {}, bearer = seller.bearer) =>
    request(ctx.app).get('/api/seller/products').set('Authorization', bearer).query(query);
  const ids = (res: request.Response) => (res.body.data.products as Array<{ id: string }>).map((row) => row.id);

  beforeAll(async () => {
    seller = await signedInSeller(ctx.app);
    const other = await signedInSeller(ctx.app);
    const sellerId = seller.user.id;
    own.draft = await createProduct({ sellerId, status: 'draft', costPrice: '3.00' });
    own.active = await createProduct({ sellerId, status: 'active', costPrice: '4.00' });
    own.inactive = await createProduct({ sellerId, status: 'inactive' });
    own.soldOut = await createProduct({ sellerId, status: 'active', stockQuantity: 0 });
    const deleted = await createProduct({ sellerId });
    await deleted.destroy();
    await createProduct({ sellerId: other.user.id });
  });

  it("lists the seller's own products in every state, newest first, with private fields, never deleted ones", async () => {
    const res = await mine();
    expect(res.status).toBe(200);
    expect(ids(res)).toEqual([own.soldOut.id, own.inactive.id, own.active.id, own.draft.id]);
    expect(res.body.data.pagination).toEqual({ page: 1, limit: 20, total: 4, totalPages: 1 });
    const draft = res.body.data.products.find((row: { id: string }) => row.id === own.draft.id);
    expect(draft).toMatchObject({ status: 'draft', costPrice: '3.00', sku: own.draft.sku, lowStockThreshold: 10, seller: { id: seller.user.id, storeName: seller.profile.storeName } });
    expect(draft).not.toHaveProperty('searchVector');
    expect(res.body.data.products.find((row: { id: string }) => row.id === own.soldOut.id).status).toBe('out_of_stock');
  });

  it('filters by status and paginates', async () => {
    for (const status of ['draft', 'active', 'inactive', 'out_of_stock'] as const) {
      const res = await mine({ status });
      const expected = { draft: own.draft, active: own.active, inactive: own.inactive, out_of_stock: own.soldOut }[status];
      expect(ids(res)).toEqual([expected.id]);
    }
    const second = await mine({ limit: 3, page: 2 });
    expect(ids(second)).toEqual([own.draft.id]);
    expect(second.body.data.pagination).toEqual({ page: 2, limit: 3, total: 4, totalPages: 2 });
    const beyond = await mine({ limit: 3, page: 5 });
    expect(beyond.body.data).toEqual({ products: [], pagination: { page: 5, limit: 3, total: 4, totalPages: 2 } });
  });

  it('answers 400 for bad filters', async () => {
    for (const query of [{ status: 'deleted' }, { page: 0 }, { limit: 101 }, { sortBy: 'price' }, { sellerId: seller.user.id }]) {
      const res = await mine(query);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION_ERROR');
    }
  });

  it('is for sellers only', async () => {
    const customer = await signedInUser(ctx.app);
    const admin = await createAdmin();
    const adminBearer = `Bearer ${(await login(ctx.app, admin.email)).accessToken}`;
    for (const bearer of [customer.bearer, adminBearer]) {
      const res = await mine({}, bearer);
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe('INSUFFICIENT_PERMISSIONS');
    }
    expect((await request(ctx.app).get('/api/seller/products')).status).toBe(401);
  });

  it('shows another seller nothing of this one', async () => {
    const other = await signedInSeller(ctx.app);
    const res = await mine({}, other.bearer);
    expect(res.status).toBe(200);
    expect(res.body.data.products).toEqual([]);
  });
});
