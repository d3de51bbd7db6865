import { QueryTypes } from 'sequelize';
import request from 'supertest';
import { createCategory, createProduct } from '../fixtures';
import { signedInUser, type SignedIn } from '../support/auth';
import { useTestApp } from '../support/app';

/**
 * A route that reads no body refuses one, as a route with a body schema refuses unknown fields:
 * nothing a client sends is silently dropped (or, later, silently assigned).
 */
describe('bodies sent to routes that take none', () => {
  const ctx = useTestApp();
  let customer: SignedIn;

  beforeAll(async () => {
    customer = await signedInUser(ctx.app);
  });

  async function cartCount(): Promise<number> {
    const [row] = await ctx.db.sequelize.query<{ count: string }>('SELECT count(*) AS count FROM carts', { type: QueryTypes.SELECT });
    return Number(row.count);
  }

  it('POST /api/cart with a field refuses it by name and creates no cart', async () => {
    const before = await cartCount();
    const res = await request(ctx.app).post('/api/cart').send({ foo: 1 });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'VALIDATION_ERROR', details: [{ field: 'foo', message: 'foo is not allowed' }] });
    expect(await cartCount()).toBe(before);

    // Without a body, or with an empty one, it still makes a guest cart.
    expect((await request(ctx.app).post('/api/cart')).status).toBe(201);
    expect((await request(ctx.app).post('/api/cart').send({})).status).toBe(201);
  });

  it('DELETE /api/cart with fields refuses each and leaves the cart as it was', async () => {
    const product = await createProduct({ stockQuantity: 5 });
    const created = await request(ctx.app).post('/api/cart').expect(201);
    const token: string = created.body.data.cartToken;
    await request(ctx.app).post('/api/cart/items').set('X-Cart-Token', token).send({ productId: product.id, quantity: 2 }).expect(201);

    const res = await request(ctx.app).delete('/api/cart').set('X-Cart-Token', token).send({ foo: 1, keep: true });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_ERROR');
    expect(res.body.error.details).toEqual([
      { field: 'foo', message: 'foo is not allowed' },
      { field: 'keep', message: 'keep is not allowed' },
    ]);
    const cart = await request(ctx.app).get('/api/cart').set('X-Cart-Token', token).expect(200);
    expect(cart.body.data.cart.itemCount).toBe(2);

    await request(ctx.app).delete('/api/cart').set('X-Cart-Token', token).expect(200);
  });

  it('refuses a JSON array where no body is read', async () => {
    const res = await request(ctx.app).post('/api/cart').send([1, 2]);
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual([{ field: 'body', message: 'body is not allowed' }]);
  });

  type Case = [method: 'get' | 'post' | 'delete', path: string, auth: 'none' | 'bearer'];
  const cases: Case[] = [
    ['get', '/health', 'none'],
    ['get', '/ready', 'none'],
    ['get', '/metrics', 'none'],
    ['get', '/api/openapi.json', 'none'],
    ['get', '/api/auth/me', 'bearer'],
    ['post', '/api/auth/resend-verification', 'bearer'],
    ['get', '/api/categories', 'none'],
    ['get', '/api/categories/:category', 'none'],
    ['get', '/api/cart', 'bearer'],
    ['delete', '/api/cart/items/:item', 'bearer'],
    ['get', '/api/orders', 'bearer'],
    ['get', '/api/products', 'none'],
    ['delete', '/api/upload/abcdef0123456789.jpg', 'bearer'],
  ];
  let categoryId = '';
  let itemId = '';
  const resolve = (path: string) => path.replace(':category', categoryId).replace(':item', itemId);

  beforeAll(async () => {
    categoryId = (await createCategory()).id;
    const product = await createProduct({ stockQuantity: 5 });
    const added = await request(ctx.app).post('/api/cart/items').set('Authorization', customer.bearer).send({ productId: product.id, quantity: 1 }).expect(201);
    itemId = added.body.data.cart.items[0].id;
  });

  it.each(cases)('%s %s refuses a body field by name', async (method, path, auth) => {
    let call = request(ctx.app)[method](resolve(path)).send({ sneaky: 'x' });
    if (auth === 'bearer') call = call.set('Authorization', customer.bearer);
    const res = await call;
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'VALIDATION_ERROR', details: [{ field: 'sneaky', message: 'sneaky is not allowed' }] });
  });

  it('answers those routes as before without a body', async () => {
    const answered: string[] = [];
    for (const [method, path, auth] of cases) {
      let call = request(ctx.app)[method](resolve(path));
      if (auth === 'bearer') call = call.set('Authorization', customer.bearer);
      answered.push(`${method} ${path} ${(await call).status}`);
    }
    expect(answered.filter((line) => line.endsWith(' 400'))).toEqual([]);
  });
});
