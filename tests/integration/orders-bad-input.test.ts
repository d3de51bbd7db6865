import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { createAdmin, createProduct, DEFAULT_PASSWORD } from '../fixtures';
import { useTestApp } from '../support/app';
import { login, signedInUser, type SignedIn } from '../support/auth';
import { signedInSeller, type SignedInSeller } from '../support/catalog';
import { ADDRESS } from '../support/orders';
import { Cart, CartItem, IdempotencyKey, Order, Product } from '../../src/models';

/**
 * Bad input, foreign resources and forbidden moves on the cart, checkout, order, seller and admin
 * order routes, over HTTP: each is refused with the contract's status and code, and each leaves
 * stock, carts, orders and their history as they were.
 */


const UNKNOWN_ID = '3f1c2a6e-8b7d-4c1e-9f0a-2b3c4d5e6f70';
const TEN_KB = 'a'.repeat(10 * 1024);

type Body = Record<string, unknown>;

interface CartLine {
  id: string;
  productId: string;
  quantity: number;
}

describe('orders: bad input and foreign resources', () => {
  const ctx = useTestApp();
  let admin: SignedIn;

  beforeAll(async () => {
    const user = await createAdmin();
    const tokens = await login(ctx.app, user.email);
    admin = { user, ...tokens, bearer: `Bearer ${tokens.accessToken}` };
  });

  const api = () => request(ctx.app);

  async function cartOf(headers: Record<string, string>): Promise<CartLine[]> {
    const res = await api().get('/api/cart').set(headers);
    expect(res.status).toBe(200);
    return res.body.data.cart.items.map((item: { id: string; product: { id: string }; quantity: number }) => ({
      id: item.id,
      productId: item.product.id,
      quantity: item.quantity,
    }));
  }

  async function stockOf(productId: string): Promise<number | undefined> {
    return (await Product.findByPk(productId, { paranoid: false }))?.stockQuantity;
  }

  function add(bearer: string, productId: string, quantity: unknown) {
    return api().post('/api/cart/items').set('Authorization', bearer).send({ productId, quantity });
  }

  /** What a refused request must not change: the customer's cart and orders, the products' stock. */
  async function customerState(customer: SignedIn, productIds: string[]) {
    const listed = await api().get('/api/orders').set('Authorization', customer.bearer);
    expect(listed.status).toBe(200);
    return {
      cart: await cartOf({ Authorization: customer.bearer }),
      listedOrders: listed.body.data.pagination.total as number,
      orderRows: await Order.count({ where: { userId: customer.user.id } }),
      idempotencyKeys: await IdempotencyKey.count({ where: { userId: customer.user.id } }),
      stock: await Promise.all(productIds.map(stockOf)),
    };
  }

  /** An order as the admin sees it, reduced to what a refused move must leave alone. */
  async function orderState(orderId: string) {
    const order = await api().get(`/api/orders/${orderId}`).set('Authorization', admin.bearer);
    const history = await api().get(`/api/orders/${orderId}/history`).set('Authorization', admin.bearer);
    expect(order.status).toBe(200);
    expect(history.status).toBe(200);
    const data = order.body.data;
    return {
      status: data.status as string,
      paymentStatus: data.paymentStatus as string,
      paymentProvider: data.paymentProvider as string | null,
      amountPaid: data.amountPaid as string,
      amountRefunded: data.amountRefunded as string,
      cancelledAt: data.cancelledAt as string | null,
      shippedAt: data.shippedAt as string | null,
      transactions: (data.transactions as unknown[]).length,
      items: data.items.map((item: { id: string; fulfillmentStatus: string; trackingNumber: string | null; refundedAmount: string }) => ({
        id: item.id,
        fulfillmentStatus: item.fulfillmentStatus,
        trackingNumber: item.trackingNumber,
        refundedAmount: item.refundedAmount,
      })),
      history: (history.body.data.history as unknown[]).length,
    };
  }

  async function orderAndStock(orderId: string, productIds: string[]) {
    return { order: await orderState(orderId), stock: await Promise.all(productIds.map(stockOf)) };
  }

  /** Puts the products in the customer's cart and places the order through the API. */
  async function placeOrder(customer: SignedIn, lines: Array<{ productId: string; quantity: number }>): Promise<{ id: string; items: Array<{ id: string; sellerId: string }> }> {
    for (const line of lines) {
      const added = await add(customer.bearer, line.productId, line.quantity);
      expect(added.status).toBe(201);
    }
    const placed = await api().post('/api/orders').set('Authorization', customer.bearer).send({ shippingAddress: ADDRESS });
    expect(placed.status).toBe(201);
    return placed.body.data;
  }

  async function markPaid(orderId: string): Promise<void> {
    const paid = await api().post(`/api/admin/orders/${orderId}/mark-paid`).set('Authorization', admin.bearer).send({ reference: 'BANK-1' });
    expect(paid.status).toBe(200);
    expect(paid.body.data.status).toBe('confirmed');
  }

  async function setStatus(orderId: string, status: string): Promise<void> {
    const moved = await api().patch(`/api/admin/orders/${orderId}/status`).set('Authorization', admin.bearer).send({ status });
    expect(moved.status).toBe(200);
    expect(moved.body.data.status).toBe(status);
  }

  type State = 'pending' | 'confirmed' | 'shipped' | 'delivered' | 'cancelled';

  /** A customer's order of one product, driven through the API into the given state. */
  async function orderIn(state: State): Promise<{ orderId: string; productId: string; customer: SignedIn }> {
    const customer = await signedInUser(ctx.app);
    const product = await createProduct({ price: '10.00', stockQuantity: 10 });
    const order = await placeOrder(customer, [{ productId: product.id, quantity: 2 }]);
    if (state === 'cancelled') {
      const cancelled = await api().post(`/api/orders/${order.id}/cancel`).set('Authorization', customer.bearer).send({});
      expect(cancelled.status).toBe(200);
    }
    if (state === 'confirmed' || state === 'shipped' || state === 'delivered') await markPaid(order.id);
    if (state === 'shipped' || state === 'delivered') await setStatus(order.id, 'shipped');
    if (state === 'delivered') await setStatus(order.id, 'delivered');
    expect((await orderState(order.id)).status).toBe(state);
    return { orderId: order.id, productId: product.id, customer };
  }

  function expectError(res: request.Response, status: number, code: string): void {
    expect({ status: res.status, code: res.body?.error?.code }).toEqual({ status, code });
    expect(res.body.success).toBe(false);
  }

  /** The fields the VALIDATION_ERROR details name, each once (joi may say two things of one field). */
  function fieldsOf(res: request.Response): string[] {
    return [...new Set<string>((res.body.error?.details ?? []).map((detail: { field: string }) => detail.field))];
  }

  describe('cart: adding', () => {
    it.each<[string, unknown]>([
      ['0', 0],
      ['negative', -1],
      ['fractional', 1.5],
      ['10^9', 1_000_000_000],
      ['above the 1000 limit', 1001],
      ['a numeric string', '2'],
      ['a non-numeric string', 'abc'],
      ['null', null],
      ['missing', undefined],
    ])('refuses a quantity that is %s with 400 VALIDATION_ERROR and changes nothing', async (_label, quantity) => {
      const customer = await signedInUser(ctx.app);
      const kept = await createProduct({ stockQuantity: 10 });
      const product = await createProduct({ stockQuantity: 5000 });
      await add(customer.bearer, kept.id, 2).expect(201);
      const before = await customerState(customer, [kept.id, product.id]);

      const body: Body = { productId: product.id };
      if (quantity !== undefined) body.quantity = quantity;
      const res = await api().post('/api/cart/items').set('Authorization', customer.bearer).send(body);

      expectError(res, 400, 'VALIDATION_ERROR');
      expect(fieldsOf(res)).toEqual(['quantity']);
      expect(await customerState(customer, [kept.id, product.id])).toEqual(before);
    });

    it('refuses a productId that is not a UUID, or missing, with 400 VALIDATION_ERROR', async () => {
      const customer = await signedInUser(ctx.app);
      const kept = await createProduct();
      await add(customer.bearer, kept.id, 1).expect(201);
      const before = await customerState(customer, [kept.id]);

      for (const productId of ['not-a-uuid', '12345', `${kept.id}x`, '', 42, null]) {
        const res = await add(customer.bearer, productId as string, 1);
        expectError(res, 400, 'VALIDATION_ERROR');
        expect(fieldsOf(res)).toEqual(['productId']);
      }
      const missing = await api().post('/api/cart/items').set('Authorization', customer.bearer).send({ quantity: 1 });
      expectError(missing, 400, 'VALIDATION_ERROR');
      expect(fieldsOf(missing)).toEqual(['productId']);

      expect(await customerState(customer, [kept.id])).toEqual(before);
    });

    it('answers 404 PRODUCT_NOT_FOUND for an unknown, draft, deleted or another seller\'s draft product', async () => {
      const customer = await signedInUser(ctx.app);
      const sellerA = await signedInSeller(ctx.app);
      const sellerB = await signedInSeller(ctx.app);
      const draft = await createProduct({ sellerId: sellerA.user.id, status: 'draft', stockQuantity: 10 });
      const deleted = await createProduct({ sellerId: sellerA.user.id, stockQuantity: 10 });
      const removed = await api().delete(`/api/products/${deleted.id}`).set('Authorization', sellerA.bearer);
      expect(removed.status).toBe(200);
      expect((await api().get(`/api/products/${deleted.id}`)).status).toBe(404);
      const productIds = [draft.id, deleted.id];
      const before = await customerState(customer, productIds);
      const sellerCartBefore = await cartOf({ Authorization: sellerB.bearer });

      for (const productId of [UNKNOWN_ID, draft.id, deleted.id]) {
        expectError(await add(customer.bearer, productId, 1), 404, 'PRODUCT_NOT_FOUND');
      }
      // Another seller (a signed-in user with a cart too) cannot reach seller A's draft either.
      expectError(await add(sellerB.bearer, draft.id, 1), 404, 'PRODUCT_NOT_FOUND');

      expect(await customerState(customer, productIds)).toEqual(before);
      expect(await cartOf({ Authorization: sellerB.bearer })).toEqual(sellerCartBefore);
    });

    it('rejects unknown body fields with 400 VALIDATION_ERROR (no mass assignment)', async () => {
      const customer = await signedInUser(ctx.app);
      const product = await createProduct({ price: '25.00', stockQuantity: 10 });
      const before = await customerState(customer, [product.id]);

      for (const extra of [{ price: '0.01' }, { unitPrice: '0.01' }, { cartId: UNKNOWN_ID }, { userId: UNKNOWN_ID }]) {
        const res = await api()
          .post('/api/cart/items')
          .set('Authorization', customer.bearer)
          .send({ productId: product.id, quantity: 1, ...extra });
        expectError(res, 400, 'VALIDATION_ERROR');
        expect(fieldsOf(res)).toEqual(Object.keys(extra));
      }
      expect(await customerState(customer, [product.id])).toEqual(before);
    });
  });

  describe('cart: updating a line', () => {
    it('accepts quantity 0 as removing the line', async () => {
      const customer = await signedInUser(ctx.app);
      const product = await createProduct({ stockQuantity: 10 });
      const other = await createProduct({ stockQuantity: 10 });
      await add(customer.bearer, product.id, 3).expect(201);
      await add(customer.bearer, other.id, 1).expect(201);
      const [line, otherLine] = await cartOf({ Authorization: customer.bearer });

      const res = await api().patch(`/api/cart/items/${line.id}`).set('Authorization', customer.bearer).send({ quantity: 0 });

      expect(res.status).toBe(200);
      expect(await cartOf({ Authorization: customer.bearer })).toEqual([otherLine]);
      expect(await stockOf(product.id)).toBe(10);
    });

    it.each<[string, unknown]>([
      ['negative', -1],
      ['fractional', 1.5],
      ['10^9', 1_000_000_000],
      ['above the 1000 limit', 1001],
      ['a numeric string', '2'],
      ['a non-numeric string', 'abc'],
      ['null', null],
      ['missing', undefined],
    ])('refuses a quantity that is %s with 400 VALIDATION_ERROR and keeps the line', async (_label, quantity) => {
      const customer = await signedInUser(ctx.app);
      const product = await createProduct({ stockQuantity: 5000 });
      await add(customer.bearer, product.id, 3).expect(201);
      const [line] = await cartOf({ Authorization: customer.bearer });
      const before = await customerState(customer, [product.id]);

      const res = await api()
        .patch(`/api/cart/items/${line.id}`)
        .set('Authorization', customer.bearer)
        .send(quantity === undefined ? {} : { quantity });

      expectError(res, 400, 'VALIDATION_ERROR');
      expect(fieldsOf(res)).toEqual(['quantity']);
      expect(await customerState(customer, [product.id])).toEqual(before);
    });

    it('rejects unknown body fields with 400, and a malformed line id with 404 CART_ITEM_NOT_FOUND', async () => {
      const customer = await signedInUser(ctx.app);
      const product = await createProduct({ stockQuantity: 10 });
      await add(customer.bearer, product.id, 3).expect(201);
      const [line] = await cartOf({ Authorization: customer.bearer });
      const before = await customerState(customer, [product.id]);

      const extra = await api().patch(`/api/cart/items/${line.id}`).set('Authorization', customer.bearer).send({ quantity: 1, productId: UNKNOWN_ID });
      expectError(extra, 400, 'VALIDATION_ERROR');
      expect(fieldsOf(extra)).toEqual(['productId']);

      for (const id of ['not-a-uuid', '1', `${line.id}0`]) {
        expectError(await api().patch(`/api/cart/items/${id}`).set('Authorization', customer.bearer).send({ quantity: 1 }), 404, 'CART_ITEM_NOT_FOUND');
        expectError(await api().delete(`/api/cart/items/${id}`).set('Authorization', customer.bearer), 404, 'CART_ITEM_NOT_FOUND');
      }
      expect(await customerState(customer, [product.id])).toEqual(before);
    });
  });

  describe('cart: another user\'s line', () => {
    it('answers 404 CART_ITEM_NOT_FOUND to PATCH and DELETE of another user\'s line, and leaves that cart alone', async () => {
      const owner = await signedInUser(ctx.app);
      const withCart = await signedInUser(ctx.app);
      const withoutCart = await signedInUser(ctx.app);
      const product = await createProduct({ stockQuantity: 10 });
      const mine = await createProduct({ stockQuantity: 10 });
      await add(owner.bearer, product.id, 2).expect(201);
      await add(withCart.bearer, mine.id, 1).expect(201);
      const [line] = await cartOf({ Authorization: owner.bearer });
      const guestToken: string = (await api().post('/api/cart').expect(201)).body.data.cartToken;
      const ownerBefore = await customerState(owner, [product.id]);
      const otherBefore = await customerState(withCart, [mine.id]);

      for (const headers of [{ Authorization: withCart.bearer }, { Authorization: withoutCart.bearer }, { 'X-Cart-Token': guestToken }]) {
        expectError(await api().patch(`/api/cart/items/${line.id}`).set(headers).send({ quantity: 5 }), 404, 'CART_ITEM_NOT_FOUND');
        expectError(await api().patch(`/api/cart/items/${line.id}`).set(headers).send({ quantity: 0 }), 404, 'CART_ITEM_NOT_FOUND');
        expectError(await api().delete(`/api/cart/items/${line.id}`).set(headers), 404, 'CART_ITEM_NOT_FOUND');
      }

      expect(await customerState(owner, [product.id])).toEqual(ownerBefore);
      expect(await customerState(withCart, [mine.id])).toEqual(otherBefore);
      expect(await cartOf({ Authorization: withoutCart.bearer })).toEqual([]);
      expect(await cartOf({ 'X-Cart-Token': guestToken })).toEqual([]);
    });
  });

  describe('cart: tokens', () => {
    it('answers 404 CART_NOT_FOUND to a cart token it never issued, or garbage, and creates no cart', async () => {
      const product = await createProduct({ stockQuantity: 10 });
      const cartsBefore = await Cart.count();
      const linesBefore = await CartItem.count();

      for (const token of [randomBytes(32).toString('base64url'), '!!!', 'x'.repeat(2000), 'null', '0']) {
        const headers = { 'X-Cart-Token': token };
        expectError(await api().get('/api/cart').set(headers), 404, 'CART_NOT_FOUND');
        expectError(await api().post('/api/cart').set(headers), 404, 'CART_NOT_FOUND');
        expectError(await api().post('/api/cart/items').set(headers).send({ productId: product.id, quantity: 1 }), 404, 'CART_NOT_FOUND');
        expectError(await api().patch(`/api/cart/items/${UNKNOWN_ID}`).set(headers).send({ quantity: 1 }), 404, 'CART_NOT_FOUND');
        expectError(await api().delete(`/api/cart/items/${UNKNOWN_ID}`).set(headers), 404, 'CART_NOT_FOUND');
        expectError(await api().delete('/api/cart').set(headers), 404, 'CART_NOT_FOUND');
      }

      expect(await Cart.count()).toBe(cartsBefore);
      expect(await CartItem.count()).toBe(linesBefore);
      expect(await stockOf(product.id)).toBe(10);
    });

    it('answers 404 CART_NOT_FOUND to an expired token, and neither changes nor revives that cart', async () => {
      const product = await createProduct({ stockQuantity: 10 });
      const created = await api().post('/api/cart').expect(201);
      const token: string = created.body.data.cartToken;
      await api().post('/api/cart/items').set('X-Cart-Token', token).send({ productId: product.id, quantity: 2 }).expect(201);
      const [line] = await cartOf({ 'X-Cart-Token': token });
      const expiredAt = new Date(Date.now() - 60_000);
      await Cart.update({ expiresAt: expiredAt }, { where: { id: created.body.data.cart.id } });

      const headers = { 'X-Cart-Token': token };
      expectError(await api().get('/api/cart').set(headers), 404, 'CART_NOT_FOUND');
      expectError(await api().post('/api/cart/items').set(headers).send({ productId: product.id, quantity: 1 }), 404, 'CART_NOT_FOUND');
      expectError(await api().patch(`/api/cart/items/${line.id}`).set(headers).send({ quantity: 5 }), 404, 'CART_NOT_FOUND');
      expectError(await api().delete(`/api/cart/items/${line.id}`).set(headers), 404, 'CART_NOT_FOUND');
      expectError(await api().delete('/api/cart').set(headers), 404, 'CART_NOT_FOUND');

      const cart = await Cart.findByPk(created.body.data.cart.id);
      expect(cart?.expiresAt?.getTime()).toBe(expiredAt.getTime());
      const lines = await CartItem.findAll({ where: { cartId: created.body.data.cart.id } });
      expect(lines.map((row) => ({ id: row.id, quantity: row.quantity }))).toEqual([{ id: line.id, quantity: 2 }]);
    });

    it('answers 404 CART_NOT_FOUND to a token retired by a merge into an account', async () => {
      const customer = await signedInUser(ctx.app);
      const product = await createProduct({ stockQuantity: 10 });
      const token: string = (await api().post('/api/cart').expect(201)).body.data.cartToken;
      await api().post('/api/cart/items').set('X-Cart-Token', token).send({ productId: product.id, quantity: 2 }).expect(201);
      await api().post('/api/auth/login').set('X-Cart-Token', token).send({ email: customer.user.email, password: DEFAULT_PASSWORD }).expect(200);
      const before = await customerState(customer, [product.id]);
      expect(before.cart).toHaveLength(1);

      expectError(await api().get('/api/cart').set('X-Cart-Token', token), 404, 'CART_NOT_FOUND');
      expectError(await api().post('/api/cart/items').set('X-Cart-Token', token).send({ productId: product.id, quantity: 1 }), 404, 'CART_NOT_FOUND');
      expectError(await api().patch(`/api/cart/items/${before.cart[0].id}`).set('X-Cart-Token', token).send({ quantity: 1 }), 404, 'CART_NOT_FOUND');

      expect(await customerState(customer, [product.id])).toEqual(before);
    });

    it('answers 401 NO_TOKEN without a Bearer token or a cart token', async () => {
      const product = await createProduct({ stockQuantity: 10 });
      const cartsBefore = await Cart.count();

      expectError(await api().get('/api/cart'), 401, 'NO_TOKEN');
      expectError(await api().delete('/api/cart'), 401, 'NO_TOKEN');
      expectError(await api().post('/api/cart/items').send({ productId: product.id, quantity: 1 }), 401, 'NO_TOKEN');
      expectError(await api().patch(`/api/cart/items/${UNKNOWN_ID}`).send({ quantity: 1 }), 401, 'NO_TOKEN');
      expectError(await api().delete(`/api/cart/items/${UNKNOWN_ID}`), 401, 'NO_TOKEN');

      expect(await Cart.count()).toBe(cartsBefore);
    });
  });

  describe('checkout', () => {
    /** A customer with two products in the cart, ready to check out. */
    async function readyToCheckOut() {
      const customer = await signedInUser(ctx.app);
      const mug = await createProduct({ price: '12.50', stockQuantity: 5 });
      const tea = await createProduct({ price: '7.25', stockQuantity: 10 });
      await add(customer.bearer, mug.id, 2).expect(201);
      await add(customer.bearer, tea.id, 1).expect(201);
      const productIds = [mug.id, tea.id];
      return { customer, productIds, before: await customerState(customer, productIds) };
    }

    function checkout(customer: SignedIn, body: unknown, idempotencyKey?: string) {
      const req = api().post('/api/orders').set('Authorization', customer.bearer);
      if (idempotencyKey !== undefined) req.set('Idempotency-Key', idempotencyKey);
      return req.send(body as Body);
    }

    it('answers 400 CART_EMPTY for a user without a cart and for an emptied cart', async () => {
      const noCart = await signedInUser(ctx.app);
      expectError(await checkout(noCart, { shippingAddress: ADDRESS }), 400, 'CART_EMPTY');
      expect(await customerState(noCart, [])).toMatchObject({ cart: [], listedOrders: 0, orderRows: 0 });

      const { customer, productIds } = await readyToCheckOut();
      await api().delete('/api/cart').set('Authorization', customer.bearer).expect(200);
      const emptied = await customerState(customer, productIds);
      expect(emptied.cart).toEqual([]);
      expectError(await checkout(customer, { shippingAddress: ADDRESS }, 'empty-cart-key'), 400, 'CART_EMPTY');
      expect(await customerState(customer, productIds)).toEqual(emptied);
    });

    it('refuses a missing shipping address, or one missing a required field, with 400 VALIDATION_ERROR', async () => {
      const { customer, productIds, before } = await readyToCheckOut();

      for (const body of [{}, { shippingAddress: null }, { shippingAddress: 'London' }, { billingAddress: ADDRESS }]) {
        const res = await checkout(customer, body);
        expectError(res, 400, 'VALIDATION_ERROR');
        expect(fieldsOf(res)).toEqual(['shippingAddress']);
      }
      for (const field of ['firstName', 'lastName', 'address1', 'city', 'postalCode', 'country'] as const) {
        const { [field]: _dropped, ...rest } = ADDRESS;
        for (const shippingAddress of [rest, { ...ADDRESS, [field]: '' }, { ...ADDRESS, [field]: '   ' }, { ...ADDRESS, [field]: null }]) {
          const res = await checkout(customer, { shippingAddress });
          expectError(res, 400, 'VALIDATION_ERROR');
          expect(fieldsOf(res)).toEqual([`shippingAddress.${field}`]);
        }
      }
      const billing = await checkout(customer, { shippingAddress: ADDRESS, billingAddress: { firstName: 'Ada' } });
      expectError(billing, 400, 'VALIDATION_ERROR');
      expect(fieldsOf(billing)).toEqual(expect.arrayContaining(['billingAddress.lastName', 'billingAddress.country']));

      expect(await customerState(customer, productIds)).toEqual(before);
    });

    it('refuses a country that is not an ISO 3166-1 alpha-2 code', async () => {
      const { customer, productIds, before } = await readyToCheckOut();

      for (const country of ['XX', 'GBR', 'UK', 'G', 'United Kingdom', '826', 12, true]) {
        const res = await checkout(customer, { shippingAddress: { ...ADDRESS, country } });
        expectError(res, 400, 'VALIDATION_ERROR');
        expect(fieldsOf(res)).toEqual(['shippingAddress.country']);
        const billing = await checkout(customer, { shippingAddress: ADDRESS, billingAddress: { ...ADDRESS, country } });
        expectError(billing, 400, 'VALIDATION_ERROR');
        expect(fieldsOf(billing)).toEqual(['billingAddress.country']);
      }
      expect(await customerState(customer, productIds)).toEqual(before);
    });

    it('accepts a lower-case country code and stores it upper-case', async () => {
      const { customer, productIds } = await readyToCheckOut();

      const res = await checkout(customer, { shippingAddress: { ...ADDRESS, country: 'gb' }, billingAddress: { ...ADDRESS, country: ' fr ' } });

      expect(res.status).toBe(201);
      expect(res.body.data.shippingAddress.country).toBe('GB');
      expect(res.body.data.billingAddress.country).toBe('FR');
      const stored = await api().get(`/api/orders/${res.body.data.id}`).set('Authorization', customer.bearer);
      expect(stored.body.data.shippingAddress.country).toBe('GB');
      expect(await Promise.all(productIds.map(stockOf))).toEqual([3, 9]);
    });

    it('refuses a 10 kB field, and control characters in one-line fields, with 400 VALIDATION_ERROR', async () => {
      const { customer, productIds, before } = await readyToCheckOut();

      for (const field of ['firstName', 'lastName', 'address1', 'address2', 'city', 'state', 'postalCode', 'country', 'phone']) {
        const res = await checkout(customer, { shippingAddress: { ...ADDRESS, [field]: TEN_KB } });
        expectError(res, 400, 'VALIDATION_ERROR');
        expect(fieldsOf(res)).toEqual([`shippingAddress.${field}`]);
      }
      const notes = await checkout(customer, { shippingAddress: ADDRESS, notes: TEN_KB });
      expectError(notes, 400, 'VALIDATION_ERROR');
      expect(fieldsOf(notes)).toEqual(['notes']);
      const lineBreak = await checkout(customer, { shippingAddress: { ...ADDRESS, address1: '12 St James Square\r\nX-Injected: yes' } });
      expectError(lineBreak, 400, 'VALIDATION_ERROR');
      expect(fieldsOf(lineBreak)).toEqual(['shippingAddress.address1']);

      expect(await customerState(customer, productIds)).toEqual(before);
    });

    it('rejects unknown fields, at the top and inside an address, with 400 VALIDATION_ERROR', async () => {
      const { customer, productIds, before } = await readyToCheckOut();

      for (const extra of [{ status: 'confirmed' }, { totalAmount: '0.01' }, { userId: UNKNOWN_ID }, { paymentStatus: 'paid' }, { items: [] }]) {
        const res = await checkout(customer, { shippingAddress: ADDRESS, ...extra });
        expectError(res, 400, 'VALIDATION_ERROR');
        expect(fieldsOf(res)).toEqual(Object.keys(extra));
      }
      const nested = await checkout(customer, { shippingAddress: { ...ADDRESS, email: 'ada@example.test' } });
      expectError(nested, 400, 'VALIDATION_ERROR');
      expect(fieldsOf(nested)).toEqual(['shippingAddress.email']);

      expect(await customerState(customer, productIds)).toEqual(before);
    });

    it('refuses a bad Idempotency-Key header with 400 VALIDATION_ERROR and stores no key', async () => {
      const { customer, productIds, before } = await readyToCheckOut();

      for (const key of ['k'.repeat(256), 'abc\tdef', 'two words', 'caf\u00e9', '']) {
        const res = await checkout(customer, { shippingAddress: ADDRESS }, key);
        expectError(res, 400, 'VALIDATION_ERROR');
        expect(fieldsOf(res)).toEqual(['Idempotency-Key']);
      }

      expect(await customerState(customer, productIds)).toEqual(before);
    });
  });

  describe('another customer\'s order', () => {
    it('is answered 404 ORDER_NOT_FOUND to read, history, cancel and pay, and is not listed', async () => {
      const alice = await signedInUser(ctx.app);
      const bob = await signedInUser(ctx.app);
      const product = await createProduct({ price: '10.00', stockQuantity: 10 });
      const aliceOrder = await placeOrder(alice, [{ productId: product.id, quantity: 3 }]);
      const bobOrder = await placeOrder(bob, [{ productId: product.id, quantity: 1 }]);
      const before = await orderAndStock(aliceOrder.id, [product.id]);
      expect(before.order).toMatchObject({ status: 'pending', history: 1, paymentProvider: null });

      expectError(await api().get(`/api/orders/${aliceOrder.id}`).set('Authorization', bob.bearer), 404, 'ORDER_NOT_FOUND');
      expectError(await api().get(`/api/orders/${aliceOrder.id}/history`).set('Authorization', bob.bearer), 404, 'ORDER_NOT_FOUND');
      expectError(await api().post(`/api/orders/${aliceOrder.id}/cancel`).set('Authorization', bob.bearer).send({ reason: 'not mine' }), 404, 'ORDER_NOT_FOUND');
      expectError(await api().post('/api/payments/create-intent').set('Authorization', bob.bearer).send({ orderId: aliceOrder.id }), 404, 'ORDER_NOT_FOUND');

      const listed = await api().get('/api/orders').set('Authorization', bob.bearer);
      expect(listed.status).toBe(200);
      expect(listed.body.data.orders.map((order: { id: string }) => order.id)).toEqual([bobOrder.id]);
      expect(listed.body.data.pagination.total).toBe(1);
      for (const status of ['pending', 'cancelled']) {
        const filtered = await api().get('/api/orders').query({ status }).set('Authorization', bob.bearer);
        expect(filtered.body.data.orders.map((order: { id: string }) => order.id)).not.toContain(aliceOrder.id);
      }

      expect(await orderAndStock(aliceOrder.id, [product.id])).toEqual(before);
      expect((await api().get(`/api/orders/${aliceOrder.id}`).set('Authorization', alice.bearer)).status).toBe(200);
    });

    it('answers 404 ORDER_NOT_FOUND to a malformed or unknown order id, never a 5xx', async () => {
      const customer = await signedInUser(ctx.app);
      const seller = await signedInSeller(ctx.app);

      for (const id of ['not-a-uuid', '123', `${UNKNOWN_ID}0`, "1' OR '1'='1", UNKNOWN_ID]) {
        const path = encodeURIComponent(id);
        expectError(await api().get(`/api/orders/${path}`).set('Authorization', customer.bearer), 404, 'ORDER_NOT_FOUND');
        expectError(await api().get(`/api/orders/${path}/history`).set('Authorization', customer.bearer), 404, 'ORDER_NOT_FOUND');
        expectError(await api().post(`/api/orders/${path}/cancel`).set('Authorization', customer.bearer).send({}), 404, 'ORDER_NOT_FOUND');
        expectError(await api().get(`/api/orders/${path}`).set('Authorization', admin.bearer), 404, 'ORDER_NOT_FOUND');
        expectError(await api().patch(`/api/admin/orders/${path}/status`).set('Authorization', admin.bearer).send({ status: 'shipped' }), 404, 'ORDER_NOT_FOUND');
        expectError(await api().post(`/api/admin/orders/${path}/mark-paid`).set('Authorization', admin.bearer).send({}), 404, 'ORDER_NOT_FOUND');
        expectError(await api().get(`/api/seller/orders/${path}`).set('Authorization', seller.bearer), 404, 'ORDER_NOT_FOUND');
        expectError(await api().patch(`/api/seller/orders/${path}/items/fulfil`).set('Authorization', seller.bearer).send({}), 404, 'ORDER_NOT_FOUND');
      }
    });
  });

  describe('admin order routes', () => {
    it('answer 403 to a customer (even the owner) and a seller, 401 without a token, and change nothing', async () => {
      const { orderId, productId, customer } = await orderIn('pending');
      const seller = await signedInSeller(ctx.app);
      const before = await orderAndStock(orderId, [productId]);

      for (const bearer of [customer.bearer, seller.bearer]) {
        expectError(await api().get('/api/admin/orders').set('Authorization', bearer), 403, 'INSUFFICIENT_PERMISSIONS');
        expectError(await api().patch(`/api/admin/orders/${orderId}/status`).set('Authorization', bearer).send({ status: 'cancelled' }), 403, 'INSUFFICIENT_PERMISSIONS');
        expectError(await api().post(`/api/admin/orders/${orderId}/mark-paid`).set('Authorization', bearer).send({ reference: 'FAKE' }), 403, 'INSUFFICIENT_PERMISSIONS');
      }
      expectError(await api().get('/api/admin/orders'), 401, 'NO_TOKEN');
      expectError(await api().patch(`/api/admin/orders/${orderId}/status`).send({ status: 'cancelled' }), 401, 'NO_TOKEN');
      expectError(await api().post(`/api/admin/orders/${orderId}/mark-paid`).send({}), 401, 'NO_TOKEN');
      expectError(await api().post(`/api/admin/orders/${orderId}/mark-paid`).set('Authorization', 'Bearer not-a-jwt').send({}), 401, 'INVALID_TOKEN');

      expect(await orderAndStock(orderId, [productId])).toEqual(before);
    });
  });

  describe('seller fulfilment', () => {
    /** A paid order with a line of seller A and a line of seller B. */
    async function twoSellerOrder(paid: boolean) {
      const customer = await signedInUser(ctx.app);
      const sellerA = await signedInSeller(ctx.app);
      const sellerB = await signedInSeller(ctx.app);
      const mug = await createProduct({ sellerId: sellerA.user.id, price: '12.50', stockQuantity: 5 });
      const tea = await createProduct({ sellerId: sellerB.user.id, price: '7.25', stockQuantity: 10 });
      const order = await placeOrder(customer, [
        { productId: mug.id, quantity: 1 },
        { productId: tea.id, quantity: 2 },
      ]);
      if (paid) await markPaid(order.id);
      const itemOf = (seller: SignedInSeller) => order.items.find((item) => item.sellerId === seller.user.id)!.id;
      return { customer, sellerA, sellerB, orderId: order.id, itemA: itemOf(sellerA), itemB: itemOf(sellerB), productIds: [mug.id, tea.id] };
    }

    it('answers 404 to a seller naming another seller\'s lines, and to a seller without lines in the order', async () => {
      const { sellerA, orderId, itemA, itemB, productIds } = await twoSellerOrder(true);
      const outsider = await signedInSeller(ctx.app);
      const before = await orderAndStock(orderId, productIds);
      expect(before.order.status).toBe('confirmed');

      const fulfil = (seller: SignedIn, body: Body) => api().patch(`/api/seller/orders/${orderId}/items/fulfil`).set('Authorization', seller.bearer).send(body);
      expectError(await fulfil(sellerA, { itemIds: [itemB], trackingNumber: 'TRACK-A' }), 404, 'ORDER_ITEM_NOT_FOUND');
      expectError(await fulfil(sellerA, { itemIds: [itemA, itemB] }), 404, 'ORDER_ITEM_NOT_FOUND');
      expectError(await fulfil(sellerA, { itemIds: [UNKNOWN_ID] }), 404, 'ORDER_ITEM_NOT_FOUND');
      expectError(await fulfil(outsider, {}), 404, 'ORDER_NOT_FOUND');
      expectError(await fulfil(outsider, { itemIds: [itemA] }), 404, 'ORDER_NOT_FOUND');
      expectError(await api().get(`/api/seller/orders/${orderId}`).set('Authorization', outsider.bearer), 404, 'ORDER_NOT_FOUND');
      const listed = await api().get('/api/seller/orders').set('Authorization', outsider.bearer);
      expect(listed.body.data.orders).toEqual([]);

      expect(await orderAndStock(orderId, productIds)).toEqual(before);
      expect(before.order.items.map((item: { fulfillmentStatus: string }) => item.fulfillmentStatus)).toEqual(['unfulfilled', 'unfulfilled']);
    });

    it('answers 409 ORDER_NOT_FULFILLABLE to shipping an unpaid or a cancelled order', async () => {
      const unpaid = await twoSellerOrder(false);
      const before = await orderAndStock(unpaid.orderId, unpaid.productIds);
      const fulfil = (orderId: string, seller: SignedIn, body: Body) =>
        api().patch(`/api/seller/orders/${orderId}/items/fulfil`).set('Authorization', seller.bearer).send(body);

      expectError(await fulfil(unpaid.orderId, unpaid.sellerA, {}), 409, 'ORDER_NOT_FULFILLABLE');
      expectError(await fulfil(unpaid.orderId, unpaid.sellerA, { itemIds: [unpaid.itemA], trackingNumber: 'TRACK-A' }), 409, 'ORDER_NOT_FULFILLABLE');
      expect(await orderAndStock(unpaid.orderId, unpaid.productIds)).toEqual(before);

      const cancelled = await twoSellerOrder(false);
      await api().post(`/api/orders/${cancelled.orderId}/cancel`).set('Authorization', cancelled.customer.bearer).send({}).expect(200);
      const cancelledBefore = await orderAndStock(cancelled.orderId, cancelled.productIds);
      expectError(await fulfil(cancelled.orderId, cancelled.sellerB, {}), 409, 'ORDER_NOT_FULFILLABLE');
      expect(await orderAndStock(cancelled.orderId, cancelled.productIds)).toEqual(cancelledBefore);
    });

    it('answers 403 to a customer calling the seller routes, the order\'s owner included', async () => {
      const { customer, orderId, itemA, productIds } = await twoSellerOrder(true);
      const stranger = await signedInUser(ctx.app);
      const before = await orderAndStock(orderId, productIds);

      for (const bearer of [customer.bearer, stranger.bearer]) {
        expectError(await api().get('/api/seller/orders').set('Authorization', bearer), 403, 'INSUFFICIENT_PERMISSIONS');
        expectError(await api().get(`/api/seller/orders/${orderId}`).set('Authorization', bearer), 403, 'INSUFFICIENT_PERMISSIONS');
        expectError(
          await api().patch(`/api/seller/orders/${orderId}/items/fulfil`).set('Authorization', bearer).send({ itemIds: [itemA] }),
          403,
          'INSUFFICIENT_PERMISSIONS',
        );
      }
      expectError(await api().patch(`/api/seller/orders/${orderId}/items/fulfil`).send({}), 401, 'NO_TOKEN');

      expect(await orderAndStock(orderId, productIds)).toEqual(before);
    });
  });

  describe('order state machine', () => {
    it.each<[State, string]>([
      ['pending', 'confirmed'],
      ['pending', 'processing'],
      ['pending', 'shipped'],
      ['pending', 'delivered'],
      ['pending', 'refunded'],
      ['pending', 'pending'],
      ['confirmed', 'pending'],
      ['confirmed', 'confirmed'],
      ['confirmed', 'delivered'],
      ['shipped', 'pending'],
      ['shipped', 'confirmed'],
      ['shipped', 'processing'],
      ['shipped', 'shipped'],
      ['delivered', 'pending'],
      ['delivered', 'confirmed'],
      ['delivered', 'processing'],
      ['delivered', 'shipped'],
      ['delivered', 'delivered'],
      ['cancelled', 'pending'],
      ['cancelled', 'confirmed'],
      ['cancelled', 'processing'],
      ['cancelled', 'shipped'],
      ['cancelled', 'delivered'],
      ['cancelled', 'refunded'],
    ])('refuses %s → %s by hand with 409 INVALID_STATUS_TRANSITION and changes nothing', async (from, to) => {
      const { orderId, productId } = await orderIn(from);
      const before = await orderAndStock(orderId, [productId]);

      const res = await api().patch(`/api/admin/orders/${orderId}/status`).set('Authorization', admin.bearer).send({ status: to, note: 'by hand' });

      expectError(res, 409, 'INVALID_STATUS_TRANSITION');
      expect(await orderAndStock(orderId, [productId])).toEqual(before);
    });

    it('refuses to cancel a shipped, delivered or cancelled order via the cancel route with 409 ORDER_NOT_CANCELLABLE', async () => {
      for (const state of ['shipped', 'delivered', 'cancelled'] as const) {
        const { orderId, productId, customer } = await orderIn(state);
        const before = await orderAndStock(orderId, [productId]);

        expectError(await api().post(`/api/orders/${orderId}/cancel`).set('Authorization', customer.bearer).send({ reason: 'changed my mind' }), 409, 'ORDER_NOT_CANCELLABLE');
        expectError(await api().post(`/api/orders/${orderId}/cancel`).set('Authorization', admin.bearer).send({}), 409, 'ORDER_NOT_CANCELLABLE');

        // No restock (the stock stays taken, or restored only once for the cancelled one), no refund, no history row.
        expect(await orderAndStock(orderId, [productId])).toEqual(before);
      }
    });

    it('refuses shipped/delivered/cancelled → cancelled by PATCH status with 409 INVALID_STATUS_TRANSITION and changes nothing', async () => {
      const codes: Record<string, string> = {};
      for (const state of ['shipped', 'delivered', 'cancelled'] as const) {
        const { orderId, productId } = await orderIn(state);
        const before = await orderAndStock(orderId, [productId]);

        const res = await api().patch(`/api/admin/orders/${orderId}/status`).set('Authorization', admin.bearer).send({ status: 'cancelled' });

        expect(res.status).toBe(409);
        expect(await orderAndStock(orderId, [productId])).toEqual(before);
        codes[state] = res.body.error.code;
      }
      // The contract: "Any other move is 409 INVALID_STATUS_TRANSITION".
      expect(codes).toEqual({ shipped: 'INVALID_STATUS_TRANSITION', delivered: 'INVALID_STATUS_TRANSITION', cancelled: 'INVALID_STATUS_TRANSITION' });
    });

    it('answers 409 ORDER_ALREADY_PAID to a second mark-paid, and records nothing more', async () => {
      const { orderId, productId } = await orderIn('confirmed');
      const before = await orderAndStock(orderId, [productId]);
      expect(before.order).toMatchObject({ paymentStatus: 'paid', amountPaid: '20.00', transactions: 1, history: 2 });

      const again = await api().post(`/api/admin/orders/${orderId}/mark-paid`).set('Authorization', admin.bearer).send({ reference: 'BANK-2' });

      expectError(again, 409, 'ORDER_ALREADY_PAID');
      expect(await orderAndStock(orderId, [productId])).toEqual(before);
    });

    it('answers 409 ORDER_NOT_PAYABLE to mark-paid of a cancelled order', async () => {
      const { orderId, productId } = await orderIn('cancelled');
      const before = await orderAndStock(orderId, [productId]);

      expectError(await api().post(`/api/admin/orders/${orderId}/mark-paid`).set('Authorization', admin.bearer).send({}), 409, 'ORDER_NOT_PAYABLE');

      expect(await orderAndStock(orderId, [productId])).toEqual(before);
    });

    it('refuses an unknown status or unknown fields with 400 VALIDATION_ERROR', async () => {
      const { orderId, productId } = await orderIn('confirmed');
      const before = await orderAndStock(orderId, [productId]);

      for (const body of [{ status: 'lost' }, { status: 'SHIPPED' }, {}, { status: 'shipped', paymentStatus: 'refunded' }]) {
        expectError(await api().patch(`/api/admin/orders/${orderId}/status`).set('Authorization', admin.bearer).send(body), 400, 'VALIDATION_ERROR');
      }

      expect(await orderAndStock(orderId, [productId])).toEqual(before);
    });
  });

  describe('large quantities', () => {
    it('adds 1000 of a 999999.99 product and checks out with exact totals, refusing a 1001st', async () => {
      const customer = await signedInUser(ctx.app);
      const product = await createProduct({ price: '999999.99', stockQuantity: 5000 });

      const added = await add(customer.bearer, product.id, 1000);
      expect(added.status).toBe(201);
      expect(added.body.data.cart).toMatchObject({ itemCount: 1000, subtotal: '999999990.00' });
      expect(added.body.data.cart.items[0]).toMatchObject({ quantity: 1000, unitPrice: '999999.99', lineTotal: '999999990.00' });

      const before = await customerState(customer, [product.id]);
      expectError(await add(customer.bearer, product.id, 1), 400, 'VALIDATION_ERROR');
      expect(await customerState(customer, [product.id])).toEqual(before);

      const placed = await api().post('/api/orders').set('Authorization', customer.bearer).send({ shippingAddress: ADDRESS });
      expect(placed.status).toBe(201);
      const order = placed.body.data;
      expect(order.items).toHaveLength(1);
      expect(order.items[0]).toMatchObject({ productId: product.id, unitPrice: '999999.99', quantity: 1000, lineTotal: '999999990.00' });
      expect(order.subtotal).toBe('999999990.00');
      const total = [order.subtotal, order.taxAmount, order.shippingAmount].reduce((sum: bigint, amount: string) => sum + BigInt(amount.replace('.', '')), 0n) - BigInt(order.discountAmount.replace('.', ''));
      expect(BigInt(order.totalAmount.replace('.', ''))).toBe(total);
      expect(await stockOf(product.id)).toBe(4000);
      expect(await cartOf({ Authorization: customer.bearer })).toEqual([]);

      // The whole amount can be paid, too.
      const paid = await api().post(`/api/admin/orders/${order.id}/mark-paid`).set('Authorization', admin.bearer).send({});
      expect(paid.status).toBe(200);
      expect(paid.body.data).toMatchObject({ status: 'confirmed', amountPaid: order.totalAmount });
    });
  });
});
