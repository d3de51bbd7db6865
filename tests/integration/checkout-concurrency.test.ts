import crypto from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { QueryTypes } from 'sequelize';
import request from 'supertest';
import { Cart, CartItem, Product } from '../../src/models';
import { cancellationService } from '../../src/modules/order';
import { createProduct, createUser, defaultVariantId, uniqueSuffix } from '../fixtures';
import { useTestApp } from '../support/app';
import { login } from '../support/auth';
import { signedInSeller } from '../support/catalog';
import { ADDRESS } from '../support/orders';

/**
 * Races on a real PostgreSQL: many checkouts of the last units, carts locking the same products
 * in opposite orders, one Idempotency-Key sent many times at once, two expiry runs at once.
 */
describe('checkout under concurrency', () => {
  const ctx = useTestApp();
  let server: Server;
  let base: string;

  beforeAll(async () => {
    server = ctx.app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  /** Customers with a cart holding these lines (in this order), signed in. */
  async function customersWithCarts(count: number, lines: Array<{ productId: string; quantity: number }>): Promise<string[]> {
    const bearers: string[] = [];
    for (let start = 0; start < count; start += 25) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(25, count - start) }, async () => {
          const user = await createUser();
          const cart = await Cart.create({ userId: user.id, tokenHash: null, expiresAt: null });
          for (const line of lines) await CartItem.create({ cartId: cart.id, ...line, variantId: await defaultVariantId(line.productId) });
          return `Bearer ${(await login(ctx.app, user.email)).accessToken}`;
        }),
      );
      bearers.push(...batch);
    }
    return bearers;
  }

  function checkout(bearer: string, key?: string) {
    const req = request(base).post('/api/orders').set('Authorization', bearer);
    if (key) req.set('Idempotency-Key', key);
    return req.send({ shippingAddress: ADDRESS });
  }

  async function count(sql: string, bind: Record<string, unknown>): Promise<number> {
    const [row] = await ctx.db.sequelize.query<{ n: number }>(sql, { bind, type: QueryTypes.SELECT });
    return Number(row.n);
  }

  it('sells the last 10 units to exactly 10 of 200 customers checking out at once', async () => {
    const product = await createProduct({ stockQuantity: 10, price: '20.00' });
    const bearers = await customersWithCarts(200, [{ productId: product.id, quantity: 1 }]);

    const answers = await Promise.all(bearers.map((bearer) => checkout(bearer)));
    const statuses = answers.map((answer) => answer.status);
    expect(statuses.filter((status) => status === 201)).toHaveLength(10);
    expect(statuses.filter((status) => status === 409)).toHaveLength(190);
    for (const refused of answers.filter((answer) => answer.status === 409)) {
      expect(refused.body.error.code).toBe('INSUFFICIENT_STOCK');
      expect(refused.body.error.details).toEqual([{ productId: product.id, variantId: await defaultVariantId(product.id), name: product.name, requested: 1, available: 0 }]);
    }
    await product.reload();
    expect(product.stockQuantity).toBe(0);
    expect(product.status).toBe('out_of_stock');
    expect(await count('SELECT count(*) AS n FROM order_items WHERE product_id = $id', { id: product.id })).toBe(10);
    expect(await count('SELECT count(DISTINCT order_id) AS n FROM order_items WHERE product_id = $id', { id: product.id })).toBe(10);
    // Losers kept their carts; winners' carts are empty.
    expect(await count('SELECT count(*) AS n FROM cart_items WHERE product_id = $id', { id: product.id })).toBe(190);
  }, 60_000);

  it('lets carts holding two products in opposite orders check out at once without a deadlock reaching anyone', async () => {
    const first = await createProduct({ stockQuantity: 1000 });
    const second = await createProduct({ stockQuantity: 1000 });
    const forward = await customersWithCarts(50, [
      { productId: first.id, quantity: 2 },
      { productId: second.id, quantity: 3 },
    ]);
    const backward = await customersWithCarts(50, [
      { productId: second.id, quantity: 3 },
      { productId: first.id, quantity: 2 },
    ]);
    const answers = await Promise.all(forward.flatMap((bearer, index) => [checkout(bearer), checkout(backward[index])]));
    expect(answers.map((answer) => answer.status).filter((status) => status !== 201)).toEqual([]);
    expect((await Product.findByPk(first.id))?.stockQuantity).toBe(1000 - 100 * 2);
    expect((await Product.findByPk(second.id))?.stockQuantity).toBe(1000 - 100 * 3);
  }, 60_000);

  it('takes a popular code and shared stock in one order in every checkout: no deadlock at all', async () => {
    // Three products of four sizes and a code with a usage limit (its use takes the promotion's row);
    // each cart holds two neighbouring products in sizes that differ
    // from cart to cart, so checkouts share products without sharing variants: the products' rows
    // and the code's row are where they meet.
    const seller = await signedInSeller(ctx.app);
    const sizes = ['S', 'M', 'L', 'XL'];
    const products: Array<{ id: string; variants: Array<{ id: string }> }> = [];
    for (let index = 0; index < 3; index += 1) {
      const suffix = uniqueSuffix().toUpperCase();
      const created = await request(ctx.app)
        .post('/api/products')
        .set('Authorization', seller.bearer)
        .send({
          name: `Rush Tee ${suffix}`,
          description: 'A T-shirt everyone wants at once.',
          status: 'active',
          options: [{ name: 'Size', values: sizes }],
          variants: sizes.map((size) => ({ sku: `RUSH-${suffix}-${size}`, options: { Size: size }, price: '10.00', stockQuantity: 10_000 })),
        })
        .expect(201);
      products.push(created.body.data);
    }
    await ctx.db.sequelize.query(`INSERT INTO promotions (code, type, value, active, usage_limit) VALUES ('RUSH5', 'percentage', 5, true, 1000)`);
    const bearers: string[] = [];
    for (let customer = 0; customer < 120; customer += 1) {
      const user = await createUser();
      const cart = await Cart.create({ userId: user.id, tokenHash: null, expiresAt: null, promoCode: 'RUSH5' });
      const pair = [products[customer % 3], products[(customer + 1) % 3]];
      for (const [line, product] of pair.entries()) {
        await CartItem.create({ cartId: cart.id, productId: product.id, variantId: product.variants[(customer + line * 2) % 4].id, quantity: 1 });
      }
      bearers.push(`Bearer ${(await login(ctx.app, user.email)).accessToken}`);
    }
    const deadlocks = () => count('SELECT deadlocks AS n FROM pg_stat_database WHERE datname = current_database()', {});
    const before = await deadlocks();
    const answers = await Promise.all(bearers.map((bearer) => checkout(bearer)));
    expect(answers.map((answer) => answer.status).filter((status) => status !== 201)).toEqual([]);
    expect(await count(`SELECT used_count AS n FROM promotions WHERE code = 'RUSH5'`, {})).toBe(120);
    // A deadlock is counted when its backend reports its statistics (at the latest a second after).
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(await deadlocks()).toBe(before);
  }, 60_000);

  it('places one order when the same Idempotency-Key arrives 20 times at once', async () => {
    const product = await createProduct({ stockQuantity: 50 });
    const [bearer] = await customersWithCarts(1, [{ productId: product.id, quantity: 4 }]);
    const answers = await Promise.all(Array.from({ length: 20 }, () => checkout(bearer, 'checkout-7f3a')));
    expect(answers.map((answer) => answer.status).filter((status) => status !== 201)).toEqual([]);
    const ids = new Set(answers.map((answer) => answer.body.data.id));
    expect(ids.size).toBe(1);
    expect(answers.filter((answer) => answer.headers['idempotent-replayed'] === 'true')).toHaveLength(19);
    expect((await Product.findByPk(product.id))?.stockQuantity).toBe(46);
    expect(await count('SELECT count(DISTINCT order_id) AS n FROM order_items WHERE product_id = $id', { id: product.id })).toBe(1);

    // Another body under the same key is refused; nothing changes.
    const other = await request(base)
      .post('/api/orders')
      .set('Authorization', bearer)
      .set('Idempotency-Key', 'checkout-7f3a')
      .send({ shippingAddress: { ...ADDRESS, city: 'Paris', country: 'FR' } });
    expect(other.status).toBe(422);
    expect(other.body.error.code).toBe('IDEMPOTENCY_KEY_REUSED');
  }, 30_000);

  it('restocks each expired order once when two workers run the expiry at the same time', async () => {
    const product = await createProduct({ stockQuantity: 30 });
    const bearers = await customersWithCarts(10, [{ productId: product.id, quantity: 3 }]);
    const placed = await Promise.all(bearers.map((bearer) => checkout(bearer)));
    expect(placed.every((answer) => answer.status === 201)).toBe(true);
    expect((await Product.findByPk(product.id))?.stockQuantity).toBe(0);
    const ids = placed.map((answer) => answer.body.data.id as string);
    await ctx.db.sequelize.query(`UPDATE orders SET expires_at = now() - interval '1 minute' WHERE id = ANY($ids::uuid[])`, { bind: { ids } });

    const [a, b] = await Promise.all([cancellationService.expireDue(), cancellationService.expireDue()]);
    expect(a + b).toBe(10);
    const product2 = await Product.findByPk(product.id);
    expect(product2?.stockQuantity).toBe(30);
    expect(product2?.status).toBe('active');
    expect(await count(`SELECT count(*) AS n FROM orders WHERE id = ANY($ids::uuid[]) AND status = 'cancelled'`, { ids })).toBe(10);
    expect(await count(`SELECT count(*) AS n FROM order_status_history WHERE order_id = ANY($ids::uuid[]) AND to_status = 'cancelled'`, { ids })).toBe(10);
  }, 30_000);

  it('places the order with another number when the one drawn is taken, taking the stock and the code once', async () => {
    const product = await createProduct({ stockQuantity: 5 });
    await ctx.db.sequelize.query(`INSERT INTO promotions (code, type, value, active, usage_limit) VALUES ('TAKEN1', 'fixed', 1, true, 10)`);
    const [first, second] = await customersWithCarts(2, [{ productId: product.id, quantity: 1 }]);
    await ctx.db.sequelize.query(`UPDATE carts SET promo_code = 'TAKEN1' WHERE id IN (SELECT cart_id FROM cart_items WHERE product_id = $id)`, { bind: { id: product.id } });
    // Every character of a number drawn from the first index of the alphabet: the second order's
    // first number is the first order's (its statement writes nothing), and its next draw is free.
    const draws = jest.spyOn(crypto, 'randomInt');
    draws.mockImplementation(() => 0);
    try {
      expect((await checkout(first)).status).toBe(201);
      let left = 6;
      draws.mockImplementation(((max: number) => (left-- > 0 ? 0 : Math.floor(Math.random() * max))) as never);
      const answer = await checkout(second);
      expect(answer.status).toBe(201);
    } finally {
      draws.mockRestore();
    }
    const numbers = await ctx.db.sequelize.query<{ order_number: string; used: number }>(
      `SELECT o.order_number, (SELECT count(*)::int FROM promotion_uses u WHERE u.order_id = o.id) AS used
         FROM orders o JOIN order_items i ON i.order_id = o.id WHERE i.product_id = $id ORDER BY o.created_at`,
      { bind: { id: product.id }, type: QueryTypes.SELECT },
    );
    expect(numbers).toHaveLength(2);
    expect(numbers[0].order_number).toMatch(/-222222$/);
    expect(numbers[1].order_number).not.toBe(numbers[0].order_number);
    expect(numbers.map((row) => row.used)).toEqual([1, 1]);
    expect((await Product.findByPk(product.id))?.stockQuantity).toBe(3);
    expect(await count(`SELECT used_count AS n FROM promotions WHERE code = 'TAKEN1'`, {})).toBe(2);
  });

  it('answers an add that waited for a checkout of the same cart with the cart the checkout left', async () => {
    const [ordered, added] = [await createProduct({ stockQuantity: 10 }), await createProduct({ stockQuantity: 10 })];
    const user = await createUser();
    const cart = await Cart.create({ userId: user.id, tokenHash: null, expiresAt: null });
    await CartItem.create({ cartId: cart.id, productId: ordered.id, variantId: await defaultVariantId(ordered.id), quantity: 2 });
    const bearer = `Bearer ${(await login(ctx.app, user.email)).accessToken}`;
    // What a checkout does to the cart, held open: the cart's row lock, its lines taken out.
    const checkoutUnderWay = await ctx.db.sequelize.transaction();
    await ctx.db.sequelize.query('SELECT id FROM carts WHERE id = $id FOR UPDATE', { bind: { id: cart.id }, transaction: checkoutUnderWay });
    await ctx.db.sequelize.query('DELETE FROM cart_items WHERE cart_id = $id', { bind: { id: cart.id }, transaction: checkoutUnderWay });
    const adding = request(base).post('/api/cart/items').set('Authorization', bearer).send({ productId: added.id, quantity: 1 }).then((res) => res);
    const waiting = () => count(`SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`, {});
    for (let tries = 0; (await waiting()) === 0; tries += 1) {
      if (tries > 200) throw new Error('the add never waited for the cart');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await checkoutUnderWay.commit();
    const answer = await adding;
    expect(answer.status).toBe(201);
    expect(answer.body.data.cart.items.map((item: { product: { id: string }; quantity: number }) => [item.product.id, item.quantity])).toEqual([[added.id, 1]]);
    expect(answer.body.data.cart.itemCount).toBe(1);
    const after = await request(base).get('/api/cart').set('Authorization', bearer).expect(200);
    expect(after.body.data.cart).toEqual(answer.body.data.cart);
  });

  it('leaves stock, cart and orders as they were when a checkout fails half-way', async () => {
    const product = await createProduct({ stockQuantity: 5 });
    const [bearer] = await customersWithCarts(1, [{ productId: product.id, quantity: 2 }]);
    const ordersBefore = await count('SELECT count(*) AS n FROM orders', {});
    // The history row is written after the order and its lines: make it fail there.
    await ctx.db.sequelize.query(`CREATE FUNCTION refuse_history() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'history is down'; END $$`);
    await ctx.db.sequelize.query('CREATE TRIGGER refuse_history BEFORE INSERT ON order_status_history FOR EACH ROW EXECUTE FUNCTION refuse_history()');
    try {
      const answer = await checkout(bearer);
      expect(answer.status).toBe(500);
      expect(answer.body.error.code).toBe('INTERNAL_ERROR');
    } finally {
      await ctx.db.sequelize.query('DROP TRIGGER refuse_history ON order_status_history');
      await ctx.db.sequelize.query('DROP FUNCTION refuse_history()');
    }
    expect((await Product.findByPk(product.id))?.stockQuantity).toBe(5);
    expect(await count('SELECT count(*) AS n FROM orders', {})).toBe(ordersBefore);
    const cart = await request(base).get('/api/cart').set('Authorization', bearer);
    expect(cart.body.data.cart.items.map((item: { quantity: number }) => item.quantity)).toEqual([2]);
    await ctx.jobsIdle();
  });
});
