import { QueryTypes } from 'sequelize';
import request from 'supertest';
import { createAdmin, createProduct, DEFAULT_PASSWORD } from '../fixtures';
import { login, signedInUser, type SignedIn } from '../support/auth';
import { signedInSeller } from '../support/catalog';
import { ADDRESS } from '../support/orders';
import { useStripeApp } from '../support/stripe-app';
import { Product } from '../../src/models';

/**
 * Money and stock when requests race, payments land late and sellers are suspended: each case
 * fires its requests at once against a real PostgreSQL and the real Stripe SDK (a local stand-in
 * of Stripe's API), then checks what the customer, the seller, the admin and Stripe each see.
 */
describe('money under hostile timing', () => {
  const ctx = useStripeApp();
  let adminBearer: string;

  beforeAll(async () => {
    const admin = await createAdmin();
    adminBearer = `Bearer ${(await login(ctx.app, admin.email)).accessToken}`;
  });

  const api = () => request(ctx.app);
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  async function rows<T extends object>(sql: string, bind: Record<string, unknown> = {}): Promise<T[]> {
    return ctx.db.sequelize.query<T>(sql, { bind, type: QueryTypes.SELECT });
  }

  async function addToCart(customer: SignedIn, productId: string, quantity = 1) {
    await api().post('/api/cart/items').set('Authorization', customer.bearer).send({ productId, quantity }).expect(201);
  }

  async function checkout(customer: SignedIn) {
    const placed = await api().post('/api/orders').set('Authorization', customer.bearer).send({ shippingAddress: ADDRESS });
    expect(placed.status).toBe(201);
    return placed.body.data as { id: string; totalAmount: string; items: Array<{ id: string; sellerId: string; productId: string }> };
  }

  async function intentFor(customer: SignedIn, orderId: string) {
    const answer = await api().post('/api/payments/create-intent').set('Authorization', customer.bearer).send({ orderId });
    expect(answer.status).toBe(200);
    return answer.body.data as { paymentIntentId: string; amount: string };
  }

  /** An intent made for an order outside its one slot (as an earlier version could), with its pending payment row. */
  async function secondIntentFor(order: { id: string; totalAmount: string }) {
    const second = ctx.stub.createIntentFor(order.id, Math.round(Number(order.totalAmount) * 100));
    await rows(
      `INSERT INTO transactions (order_id, type, provider, provider_reference, amount, currency, status) VALUES ($orderId, 'payment', 'stripe', $ref, $amount, 'usd', 'pending')`,
      { orderId: order.id, ref: second.id, amount: order.totalAmount },
    );
    return second;
  }

  async function payByCard(customer: SignedIn, orderId: string) {
    const intent = await intentFor(customer, orderId);
    await ctx.deliver('payment_intent.succeeded', ctx.stub.succeed(intent.paymentIntentId)).expect(200);
    await ctx.jobsIdle();
    return intent;
  }

  function orderOf(customer: SignedIn, orderId: string) {
    return api().get(`/api/orders/${orderId}`).set('Authorization', customer.bearer);
  }

  async function cardOrder(price = '10.00', quantity = 1) {
    const customer = await signedInUser(ctx.app);
    const product = await createProduct({ price, stockQuantity: 10 });
    await addToCart(customer, product.id, quantity);
    const order = await checkout(customer);
    return { customer, product, order };
  }

  /** A card order of one line of this seller, paid, delivered and past the payout hold. */
  async function deliveredCardOrder(seller: SignedIn, price: string) {
    const buyer = await signedInUser(ctx.app);
    const product = await createProduct({ sellerId: seller.user.id, price, stockQuantity: 5 });
    await addToCart(buyer, product.id, 1);
    const order = await checkout(buyer);
    const intent = await payByCard(buyer, order.id);
    for (const status of ['shipped', 'delivered']) await api().patch(`/api/admin/orders/${order.id}/status`).set('Authorization', adminBearer).send({ status }).expect(200);
    await rows(`UPDATE order_items SET delivered_at = now() - interval '30 days' WHERE order_id = $id`, { id: order.id });
    return { buyer, order, intent };
  }

  describe('cancelling once a seller has shipped', () => {
    async function twoSellerOrder() {
      const customer = await signedInUser(ctx.app);
      const shipping = await signedInSeller(ctx.app);
      const waiting = await signedInSeller(ctx.app);
      const shipped = await createProduct({ sellerId: shipping.user.id, price: '30.00', stockQuantity: 5 });
      const unshipped = await createProduct({ sellerId: waiting.user.id, price: '10.00', stockQuantity: 5 });
      await addToCart(customer, shipped.id, 1);
      await addToCart(customer, unshipped.id, 2);
      const order = await checkout(customer);
      const intent = await payByCard(customer, order.id);
      await api().patch(`/api/seller/orders/${order.id}/items/fulfil`).set('Authorization', shipping.bearer).send({ trackingNumber: 'TRK-1' }).expect(200);
      return { customer, shipping, waiting, shipped, unshipped, order, intent };
    }

    it('refuses the customer, and an admin cancels, refunds and restocks only the lines not shipped', async () => {
      const { customer, waiting, shipped, unshipped, order, intent } = await twoSellerOrder();
      const byCustomer = await api().post(`/api/orders/${order.id}/cancel`).set('Authorization', customer.bearer).send({});
      expect(byCustomer.status).toBe(409);
      expect(byCustomer.body.error.code).toBe('ORDER_NOT_CANCELLABLE');
      expect(ctx.stub.refundedTotal(intent.paymentIntentId)).toBe(0);

      const byAdmin = await api().post(`/api/orders/${order.id}/cancel`).set('Authorization', adminBearer).send({ reason: 'Seller out of stock' });
      expect(byAdmin.status).toBe(200);
      const after = byAdmin.body.data;
      expect(after.status).toBe('shipped');
      const line = (productId: string) => after.items.find((item: { productId: string }) => item.productId === productId);
      expect(line(shipped.id)).toMatchObject({ fulfillmentStatus: 'shipped', refundedAmount: '0.00' });
      expect(line(unshipped.id)).toMatchObject({ fulfillmentStatus: 'cancelled', refundedAmount: '20.00' });
      // 20.00 of 50.00 of lines: 40 % of what was paid, tax and shipping included.
      const share = Math.round((Number(order.totalAmount) * 100 * 20) / 50);
      expect(after.amountRefunded).toBe((share / 100).toFixed(2));
      expect(ctx.stub.refundedTotal(intent.paymentIntentId)).toBe(share);
      expect((await Product.findByPk(shipped.id))?.stockQuantity).toBe(4);
      expect((await Product.findByPk(unshipped.id))?.stockQuantity).toBe(5);
      const ledger = await api().get('/api/seller/ledger').set('Authorization', waiting.bearer);
      expect(Number(ledger.body.data.balance.pending) + Number(ledger.body.data.balance.available)).toBe(0);

      const again = await api().post(`/api/orders/${order.id}/cancel`).set('Authorization', adminBearer).send({});
      expect(again.status).toBe(409);
      expect((await Product.findByPk(unshipped.id))?.stockQuantity).toBe(5);
    });

    it('never restocks a shipped unit, also when a full refund asks for it', async () => {
      const { shipped, unshipped, order } = await twoSellerOrder();
      const refund = await api().post(`/api/admin/orders/${order.id}/refund`).set('Authorization', adminBearer).send({ restock: true });
      expect(refund.status).toBe(200);
      expect(refund.body.data.paymentStatus).toBe('refunded');
      expect((await Product.findByPk(shipped.id))?.stockQuantity).toBe(4);
      expect((await Product.findByPk(unshipped.id))?.stockQuantity).toBe(5);
    });
  });

  it('answers 200 to concurrent refunds only for refunds made, and 409 to the rest', async () => {
    const { customer, order } = await cardOrder('10.00');
    const intent = await payByCard(customer, order.id);
    const paid = Math.round(Number(order.totalAmount) * 100);
    const count = Math.floor(paid / 100) + 2;
    const answers = await Promise.all(
      Array.from({ length: count }, () => api().post(`/api/admin/orders/${order.id}/refund`).set('Authorization', adminBearer).send({ amount: '1.00' })),
    );
    const made = answers.filter((answer) => answer.status === 200).length;
    expect(made).toBe(Math.floor(paid / 100));
    expect(answers.filter((answer) => answer.status !== 200).every((answer) => answer.status === 409 && answer.body.error.code === 'REFUND_EXCEEDS_PAYMENT')).toBe(true);
    expect(ctx.stub.refundedTotal(intent.paymentIntentId)).toBe(made * 100);
    expect((await orderOf(customer, order.id)).body.data.amountRefunded).toBe(made.toFixed(2));
  });

  it("never answers 200 with another request's refund, also while one is in flight at Stripe", async () => {
    const { customer, order } = await cardOrder('10.00');
    const intent = await payByCard(customer, order.id);
    ctx.stub.failNext(/^POST \/v1\/refunds$/, 'hang');
    const first = api().post(`/api/admin/orders/${order.id}/refund`).set('Authorization', adminBearer).send({ amount: '1.00' }).then((answer) => answer);
    while (!ctx.stub.calls.some((call) => call.path === '/v1/refunds' && call.method === 'POST' && call.params.payment_intent === intent.paymentIntentId)) await sleep(10);
    const others = await Promise.all([1, 2].map(() => api().post(`/api/admin/orders/${order.id}/refund`).set('Authorization', adminBearer).send({ amount: '1.00' })));
    const answers = [await first, ...others];
    expect(ctx.stub.refundedTotal(intent.paymentIntentId)).toBe(answers.filter((answer) => answer.status === 200).length * 100);
    await ctx.jobsIdle();
  });

  describe('one cart, one order', () => {
    it('makes one order of a cart checked out five times at once', async () => {
      const customer = await signedInUser(ctx.app);
      const product = await createProduct({ price: '5.00', stockQuantity: 20 });
      await addToCart(customer, product.id, 3);
      const answers = await Promise.all(
        Array.from({ length: 5 }, () => api().post('/api/orders').set('Authorization', customer.bearer).send({ shippingAddress: ADDRESS })),
      );
      expect(answers.map((answer) => answer.status).sort()).toEqual([201, 400, 400, 400, 400]);
      expect(answers.filter((answer) => answer.status === 400).every((answer) => answer.body.error.code === 'CART_EMPTY')).toBe(true);
      expect((await Product.findByPk(product.id))?.stockQuantity).toBe(17);
    });

    it('makes one order of a one-unit cart checked out ten times at once with different keys', async () => {
      const customer = await signedInUser(ctx.app);
      const product = await createProduct({ price: '5.00', stockQuantity: 10 });
      await addToCart(customer, product.id, 1);
      const answers = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          api().post('/api/orders').set('Authorization', customer.bearer).set('Idempotency-Key', `key-${i}-${customer.user.id}`).send({ shippingAddress: ADDRESS }),
        ),
      );
      expect(answers.filter((answer) => answer.status === 201)).toHaveLength(1);
      expect(answers.filter((answer) => answer.status !== 201).every((answer) => answer.status === 400 && answer.body.error.code === 'CART_EMPTY')).toBe(true);
      const [{ orders }] = await rows<{ orders: number }>('SELECT count(*)::int AS orders FROM orders WHERE user_id = $userId', { userId: customer.user.id });
      expect(orders).toBe(1);
      expect((await Product.findByPk(product.id))?.stockQuantity).toBe(9);
    });

    it('keeps a line added while the cart is checked out for the next order', async () => {
      const customer = await signedInUser(ctx.app);
      const first = await createProduct({ price: '5.00', stockQuantity: 5 });
      const second = await createProduct({ price: '7.00', stockQuantity: 5 });
      await addToCart(customer, first.id, 1);
      // The checkout is held just before it writes the order, and the add arrives meanwhile.
      const hold = await ctx.db.sequelize.transaction();
      await ctx.db.sequelize.query('LOCK TABLE orders IN EXCLUSIVE MODE', { transaction: hold });
      const placing = api().post('/api/orders').set('Authorization', customer.bearer).send({ shippingAddress: ADDRESS }).then((answer) => answer);
      for (;;) {
        const [{ waiting }] = await rows<{ waiting: number }>(`SELECT count(*)::int AS waiting FROM pg_locks WHERE NOT granted AND relation = 'orders'::regclass`);
        if (waiting > 0) break;
        await sleep(10);
      }
      const adding = api().post('/api/cart/items').set('Authorization', customer.bearer).send({ productId: second.id, quantity: 1 }).then((answer) => answer);
      await sleep(300);
      await hold.commit();
      const [placed, added] = await Promise.all([placing, adding]);
      expect(placed.status).toBe(201);
      expect(added.status).toBe(201);
      const ordered = placed.body.data.items.map((item: { productId: string }) => item.productId);
      const cart = (await api().get('/api/cart').set('Authorization', customer.bearer)).body.data.cart;
      const left = cart.items.map((item: { product: { id: string } }) => item.product.id);
      // Every line is either in the order or still in the cart, never lost.
      expect([...ordered, ...left].sort()).toEqual([first.id, second.id].sort());
    });
  });

  describe('the 100-line cart limit', () => {
    async function products(count: number) {
      return Promise.all(Array.from({ length: count }, () => createProduct({ price: '1.00', stockQuantity: 50 })));
    }

    /** The count the database keeps on the cart (the CHECK that holds the limit reads it) against its lines. */
    async function countedLines(userId: string) {
      const [cart] = await rows<{ line_count: number; lines: number }>(
        'SELECT c.line_count, (SELECT count(*)::int FROM cart_items WHERE cart_id = c.id) AS lines FROM carts c WHERE c.user_id = $userId',
        { userId },
      );
      return [cart.line_count, cart.lines];
    }

    it('holds against concurrent adds', async () => {
      // A race is caught by chance: ten rounds of 95 lines and 20 adds at once.
      for (let round = 0; round < 10; round += 1) {
        const customer = await signedInUser(ctx.app);
        const catalog = await products(115);
        await addToCart(customer, catalog[0].id);
        const [{ id: cartId }] = await rows<{ id: string }>('SELECT id FROM carts WHERE user_id = $userId', { userId: customer.user.id });
        await rows('INSERT INTO cart_items (cart_id, product_id, variant_id, quantity) SELECT $cartId, product_id, id, 1 FROM product_variants WHERE product_id = ANY($ids::uuid[])', {
          cartId,
          ids: catalog.slice(1, 95).map((product) => product.id),
        });
        const answers = await Promise.all(
          catalog.slice(95).map((product) => api().post('/api/cart/items').set('Authorization', customer.bearer).send({ productId: product.id, quantity: 1 })),
        );
        expect(answers.filter((answer) => answer.status === 201)).toHaveLength(5);
        expect(answers.filter((answer) => answer.status !== 201).every((answer) => answer.status === 400 && answer.body.error.code === 'CART_FULL')).toBe(true);
        const cart = (await api().get('/api/cart').set('Authorization', customer.bearer)).body.data.cart;
        expect(cart.items).toHaveLength(100);
        expect(await countedLines(customer.user.id)).toEqual([100, 100]);
      }
    }, 60_000);

    it('holds against guest carts merged at sign-in', async () => {
      const customer = await signedInUser(ctx.app);
      const catalog = await products(150);
      for (let batch = 0; batch < 5; batch += 1) {
        const guest = await api().post('/api/cart').send({});
        const token = guest.body.data.cartToken as string;
        for (const product of catalog.slice(batch * 30, batch * 30 + 30)) {
          await api().post('/api/cart/items').set('X-Cart-Token', token).send({ productId: product.id, quantity: 1 }).expect(201);
        }
        await api().post('/api/auth/login').set('X-Cart-Token', token).send({ email: customer.user.email, password: DEFAULT_PASSWORD }).expect(200);
      }
      const cart = (await api().get('/api/cart').set('Authorization', customer.bearer)).body.data.cart;
      expect(cart.items).toHaveLength(100);
      expect(await countedLines(customer.user.id)).toEqual([100, 100]);
      // Removing a line and checking out count down as adding counts up.
      await api().delete(`/api/cart/items/${cart.items[0].id}`).set('Authorization', customer.bearer).expect(200);
      expect(await countedLines(customer.user.id)).toEqual([99, 99]);
      await api().delete('/api/cart').set('Authorization', customer.bearer).expect(200);
      expect(await countedLines(customer.user.id)).toEqual([0, 0]);
    });

    it('never answers CART_FULL to first adds racing to make a new cart', async () => {
      const catalog = await products(8);
      for (let round = 0; round < 30; round += 1) {
        const customer = await signedInUser(ctx.app);
        const answers = await Promise.all(catalog.map((product) => api().post('/api/cart/items').set('Authorization', customer.bearer).send({ productId: product.id, quantity: 1 })));
        expect(answers.map((answer) => answer.status)).toEqual(catalog.map(() => 201));
        const cart = (await api().get('/api/cart').set('Authorization', customer.bearer)).body.data.cart;
        expect(cart.items).toHaveLength(8);
      }
    }, 60_000);
  });

  describe('an order is paid once', () => {
    it('refunds in full, by a job, a card payment that lands on a cancelled order, and books no sale', async () => {
      for (let run = 0; run < 4; run += 1) {
        const { customer, product, order } = await cardOrder('12.00');
        const intent = await intentFor(customer, order.id);
        // The customer's bank confirms while the customer cancels.
        const succeeded = ctx.stub.succeed(intent.paymentIntentId);
        const [cancelled, delivered] = await Promise.all([
          api().post(`/api/orders/${order.id}/cancel`).set('Authorization', customer.bearer).send({}),
          ctx.deliver('payment_intent.succeeded', succeeded),
        ]);
        expect(delivered.status).toBe(200);
        await ctx.jobsIdle();
        const after = (await orderOf(customer, order.id)).body.data;
        const paid = Math.round(Number(order.totalAmount) * 100);
        expect(ctx.stub.refundedTotal(intent.paymentIntentId)).toBe(paid);
        if (cancelled.status === 200) {
          expect(after).toMatchObject({ status: 'cancelled', paymentStatus: 'refunded', amountRefunded: order.totalAmount });
          expect((await Product.findByPk(product.id))?.stockQuantity).toBe(10);
          const [{ balance }] = await rows<{ balance: string }>('SELECT coalesce(sum(amount), 0)::text AS balance FROM seller_ledger_entries WHERE order_id = $id', { id: order.id });
          expect(Number(balance)).toBe(0);
          const [{ sales }] = await rows<{ sales: number }>(`SELECT count(*)::int AS sales FROM seller_ledger_entries WHERE order_id = $id AND type = 'sale'`, { id: order.id });
          expect(sales).toBe(0);
        } else {
          // The payment came first: a paid order's cancel is a cancel with a full refund.
          expect(after).toMatchObject({ status: 'cancelled', paymentStatus: 'refunded' });
        }
      }
    });

    it('gives two create-intent calls at once the same intent', async () => {
      const { customer, order } = await cardOrder('15.00');
      const answers = await Promise.all(Array.from({ length: 5 }, () => api().post('/api/payments/create-intent').set('Authorization', customer.bearer).send({ orderId: order.id })));
      expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200, 200]);
      expect(new Set(answers.map((answer) => answer.body.data.paymentIntentId)).size).toBe(1);
      expect([...ctx.stub.intents.values()].filter((intent) => intent.metadata.orderId === order.id)).toHaveLength(1);
    });

    it('gives create-intent calls at once the same new intent after the first was canceled, one of them slowed', async () => {
      const { customer, order } = await cardOrder('15.00');
      const first = await intentFor(customer, order.id);
      ctx.stub.cancel(first.paymentIntentId);
      ctx.stub.failNext(/^GET \/v1\/payment_intents\//, 'hang');
      const answers = await Promise.all(Array.from({ length: 5 }, () => api().post('/api/payments/create-intent').set('Authorization', customer.bearer).send({ orderId: order.id })));
      expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200, 200]);
      expect(new Set(answers.map((answer) => answer.body.data.paymentIntentId)).size).toBe(1);
      expect([...ctx.stub.intents.values()].filter((intent) => intent.metadata.orderId === order.id && intent.status !== 'canceled')).toHaveLength(1);
    });

    it('refunds a card payment that lands after an admin recorded a manual payment, and lists it for admins', async () => {
      // Mark-paid and create-intent race on orders no one asked a payment for yet.
      for (let run = 0; run < 5; run += 1) {
        const { customer, order } = await cardOrder('9.00');
        const [markPaid, created] = await Promise.all([
          api().post(`/api/admin/orders/${order.id}/mark-paid`).set('Authorization', adminBearer).send({ reference: `BANK-${run}` }),
          api().post('/api/payments/create-intent').set('Authorization', customer.bearer).send({ orderId: order.id }),
        ]);
        await ctx.jobsIdle();
        const intents = [...ctx.stub.intents.values()].filter((intent) => intent.metadata.orderId === order.id);
        // Whatever the customer's browser still holds gets paid.
        for (const intent of intents) {
          if (intent.status === 'canceled') continue;
          await ctx.deliver('payment_intent.succeeded', ctx.stub.succeed(intent.id)).expect(200);
        }
        await ctx.jobsIdle();
        const after = (await orderOf(customer, order.id)).body.data;
        expect(after.amountPaid).toBe(order.totalAmount);
        expect(['paid', 'refunded']).toContain(after.paymentStatus);
        const cardPaid = intents.filter((intent) => intent.status === 'succeeded');
        if (markPaid.status === 200) {
          expect(after.paymentProvider).toBe('manual');
          for (const intent of cardPaid) expect(ctx.stub.refundedTotal(intent.id)).toBe(intent.amount);
          if (cardPaid.length > 0) {
            const surplus = await api().get('/api/admin/transactions').query({ surplus: true, limit: 100 }).set('Authorization', adminBearer);
            const mine = surplus.body.data.transactions.filter((row: { orderId: string }) => row.orderId === order.id);
            expect(mine.map((row: { type: string }) => row.type).sort()).toEqual(['payment', 'refund']);
          }
        } else {
          expect(created.status).toBe(200);
          expect(cardPaid).toHaveLength(1);
          expect(ctx.stub.refundedTotal(cardPaid[0].id)).toBe(0);
        }
      }
    });

    it('records a surplus payment refunded in the dashboard after Stripe refused our refund of it', async () => {
      const { customer, order } = await cardOrder('8.00');
      const first = await intentFor(customer, order.id);
      const second = await secondIntentFor(order);
      await ctx.deliver('payment_intent.succeeded', ctx.stub.succeed(first.paymentIntentId)).expect(200);
      const paidTwice = ctx.stub.succeed(second.id);
      // Refunded in the dashboard before our refund of the surplus reaches Stripe, which then refuses ours.
      ctx.stub.dashboardRefund(second.id, second.amount);
      await ctx.deliver('payment_intent.succeeded', paidTwice).expect(200);
      await ctx.jobsIdle();
      const surplusRefunds = () =>
        rows<{ status: string }>(
          `SELECT r.status FROM refunds r JOIN transactions t ON t.id = r.payment_transaction_id WHERE t.provider_reference = $ref ORDER BY r.status::text`,
          { ref: second.id },
        );
      expect(await surplusRefunds()).toEqual([{ status: 'failed' }]);

      // Stripe sends two events about that refund at once: it is recorded once.
      const refunded = { id: `ch_${second.id}`, object: 'charge', payment_intent: second.id, amount_refunded: second.amount };
      await Promise.all([ctx.deliver('charge.refunded', refunded).expect(200), ctx.deliver('charge.refunded', refunded).expect(200)]);
      await ctx.jobsIdle();
      expect(await surplusRefunds()).toEqual([{ status: 'failed' }, { status: 'succeeded' }]);
      expect(ctx.stub.refundedTotal(second.id)).toBe(second.amount);
      const after = (await orderOf(customer, order.id)).body.data;
      expect(after).toMatchObject({ paymentStatus: 'paid', amountPaid: order.totalAmount, amountRefunded: '0.00' });
      const surplusRows = after.transactions.filter((row: { surplus: boolean; status: string }) => row.surplus && row.status === 'succeeded');
      expect(surplusRows.map((row: { type: string }) => row.type).sort()).toEqual(['payment', 'refund']);
    });

    it('refunds a second intent of an order paid by the first, and cancels every open intent on cancel', async () => {
      const { customer, order } = await cardOrder('8.00');
      const first = await intentFor(customer, order.id);
      const second = await secondIntentFor(order);
      await ctx.deliver('payment_intent.succeeded', ctx.stub.succeed(first.paymentIntentId)).expect(200);
      await ctx.deliver('payment_intent.succeeded', ctx.stub.succeed(second.id)).expect(200);
      await ctx.jobsIdle();
      expect(ctx.stub.refundedTotal(first.paymentIntentId)).toBe(0);
      expect(ctx.stub.refundedTotal(second.id)).toBe(second.amount);
      const after = (await orderOf(customer, order.id)).body.data;
      expect(after).toMatchObject({ paymentStatus: 'paid', amountPaid: order.totalAmount, amountRefunded: '0.00' });
      expect(after.transactions.filter((row: { surplus: boolean }) => row.surplus)).toHaveLength(2);
      // A surplus payment was never a sale: its refund is no refund of sales either.
      const from = new Date(Date.now() - 3600_000).toISOString();
      const to = new Date(Date.now() + 3600_000).toISOString();
      const overview = (await api().get('/api/admin/stats/overview').query({ from, to }).set('Authorization', adminBearer)).body.data;
      const [{ refunds }] = await rows<{ refunds: string }>(
        `SELECT coalesce(sum(amount), 0)::text AS refunds FROM transactions WHERE type = 'refund' AND status = 'succeeded' AND NOT surplus AND created_at >= $from AND created_at < $to`,
        { from, to },
      );
      expect(overview.refunds).toBe(refunds);

      const other = await cardOrder('8.00');
      const open = await intentFor(other.customer, other.order.id);
      const extra = ctx.stub.createIntentFor(other.order.id, Math.round(Number(other.order.totalAmount) * 100));
      await rows(
        `INSERT INTO transactions (order_id, type, provider, provider_reference, amount, currency, status) VALUES ($orderId, 'payment', 'stripe', $ref, $amount, 'usd', 'pending')`,
        { orderId: other.order.id, ref: extra.id, amount: other.order.totalAmount },
      );
      await api().post(`/api/orders/${other.order.id}/cancel`).set('Authorization', other.customer.bearer).send({}).expect(200);
      expect(ctx.stub.intent(open.paymentIntentId).status).toBe('canceled');
      expect(ctx.stub.intent(extra.id).status).toBe('canceled');
    });
  });

  it("keeps the provider's own words out of the answer", async () => {
    const { customer, order } = await cardOrder('6.00');
    ctx.stub.failNext(/^POST \/v1\/payment_intents$/);
    ctx.stub.failNext(/^POST \/v1\/payment_intents$/);
    const failed = await api().post('/api/payments/create-intent').set('Authorization', customer.bearer).send({ orderId: order.id });
    expect(failed.status).toBe(502);
    expect(failed.body.error.code).toBe('PAYMENT_PROVIDER_ERROR');
    expect(JSON.stringify(failed.body)).not.toMatch(/stub|injected|Stripe/i);
    expect(failed.body.error.requestId ?? failed.body.requestId).toBeTruthy();
  });

  describe('a suspended seller', () => {
    it('stops selling and being paid until approved again', async () => {
      const seller = await signedInSeller(ctx.app);
      await seller.profile.update({ payoutDetails: { stripeAccountId: 'acct_held123' } });
      const listed = await createProduct({ sellerId: seller.user.id, price: '20.00', stockQuantity: 5 });
      const { buyer, order } = await deliveredCardOrder(seller, '20.00');
      const shopper = await signedInUser(ctx.app);
      await addToCart(shopper, listed.id, 1);

      await api().patch(`/api/admin/users/${seller.user.id}/status`).set('Authorization', adminBearer).send({ status: 'suspended', reason: 'Fraud review' }).expect(200);
      expect((await api().get(`/api/products/${listed.id}`)).status).toBe(404);
      expect((await api().get('/api/products').query({ search: listed.name })).body.data.products.map((p: { id: string }) => p.id)).not.toContain(listed.id);
      const late = await signedInUser(ctx.app);
      expect((await api().post('/api/cart/items').set('Authorization', late.bearer).send({ productId: listed.id, quantity: 1 })).status).toBe(404);
      const cart = (await api().get('/api/cart').set('Authorization', shopper.bearer)).body.data.cart;
      expect(cart.items[0].available).toBe(false);
      const refused = await api().post('/api/orders').set('Authorization', shopper.bearer).send({ shippingAddress: ADDRESS });
      expect(refused.status).toBe(409);
      expect(refused.body.error.code).toBe('PRODUCT_UNAVAILABLE');
      expect((await orderOf(buyer, order.id)).status).toBe(200);
      // An admin's status change does not bring it back while the seller is suspended.
      await api().patch(`/api/products/${listed.id}`).set('Authorization', adminBearer).send({ status: 'inactive' }).expect(200);
      await api().patch(`/api/products/${listed.id}`).set('Authorization', adminBearer).send({ status: 'active' }).expect(200);
      expect((await api().get(`/api/products/${listed.id}`)).status).toBe(404);

      const run = await api().post('/api/admin/payouts/run').set('Authorization', adminBearer).send({});
      expect(run.body.data.payouts.filter((payout: { sellerId: string }) => payout.sellerId === seller.user.id)).toHaveLength(0);
      await ctx.jobsIdle();
      expect([...ctx.stub.transfers.values()].filter((transfer) => transfer.destination === 'acct_held123')).toHaveLength(0);

      await api().patch(`/api/admin/users/${seller.user.id}/status`).set('Authorization', adminBearer).send({ status: 'approved' }).expect(200);
      expect((await api().get(`/api/products/${listed.id}`)).status).toBe(200);
      const released = await api().post('/api/admin/payouts/run').set('Authorization', adminBearer).send({});
      expect(released.body.data.payouts.filter((payout: { sellerId: string }) => payout.sellerId === seller.user.id)).toHaveLength(1);
      await ctx.jobsIdle();
      expect([...ctx.stub.transfers.values()].filter((transfer) => transfer.destination === 'acct_held123')).toHaveLength(1);
    });

    it('holds a payout made before the suspension', async () => {
      const seller = await signedInSeller(ctx.app);
      await deliveredCardOrder(seller, '40.00');
      const run = await api().post('/api/admin/payouts/run').set('Authorization', adminBearer).send({});
      const payout = run.body.data.payouts.find((row: { sellerId: string }) => row.sellerId === seller.user.id);
      await api().patch(`/api/admin/users/${seller.user.id}/status`).set('Authorization', adminBearer).send({ status: 'suspended' }).expect(200);
      const held = await api().post(`/api/admin/payouts/${payout.id}/mark-paid`).set('Authorization', adminBearer).send({ reference: 'BANK' });
      expect(held.status).toBe(409);
      expect(held.body.error.code).toBe('PAYOUT_HELD');
    });

    it('never records a bank payout as paid to a seller suspended while the request ran', async () => {
      const seller = await signedInSeller(ctx.app);
      await deliveredCardOrder(seller, '40.00');
      const run = await api().post('/api/admin/payouts/run').set('Authorization', adminBearer).send({});
      const payout = run.body.data.payouts.find((row: { sellerId: string }) => row.sellerId === seller.user.id);

      // The payout row is held while mark-paid runs, and the suspension arrives meanwhile.
      const hold = await ctx.db.sequelize.transaction();
      await ctx.db.sequelize.query('SELECT id FROM seller_payouts WHERE id = $id FOR UPDATE', { bind: { id: payout.id }, transaction: hold });
      const marking = api().post(`/api/admin/payouts/${payout.id}/mark-paid`).set('Authorization', adminBearer).send({ reference: 'BANK' }).then((answer) => answer);
      for (;;) {
        const [{ waiting }] = await rows<{ waiting: number }>(
          `SELECT count(*)::int AS waiting FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
        );
        if (waiting > 0) break;
        await sleep(10);
      }
      let suspendedFirst = false;
      const suspending = api()
        .patch(`/api/admin/users/${seller.user.id}/status`)
        .set('Authorization', adminBearer)
        .send({ status: 'suspended' })
        .then((answer) => {
          suspendedFirst = true;
          return answer;
        });
      await sleep(300);
      const suspendedWhileMarking = suspendedFirst;
      await hold.commit();
      const [marked, suspended] = await Promise.all([marking, suspending]);
      expect(suspended.status).toBe(200);
      // Either the payment was recorded before the suspension took effect, or it was held.
      if (suspendedWhileMarking) expect(marked.body.error?.code).toBe('PAYOUT_HELD');
      else expect([200, 409]).toContain(marked.status);
    });
  });

  describe('disputes', () => {
    async function disputedSale() {
      const seller = await signedInSeller(ctx.app);
      return { seller, ...(await deliveredCardOrder(seller, '50.00')) };
    }

    const balanceOf = async (seller: SignedIn) => (await api().get('/api/seller/ledger').set('Authorization', seller.bearer)).body.data;

    it('holds the lines while open and releases them when won', async () => {
      const { seller, order, intent } = await disputedSale();
      const amount = Math.round(Number(order.totalAmount) * 100);
      const dispute = { id: `dp_won_${order.id}`, object: 'dispute', payment_intent: intent.paymentIntentId, amount, currency: 'usd', reason: 'fraudulent', status: 'needs_response' };
      await ctx.deliver('charge.dispute.created', dispute).expect(200);
      await ctx.jobsIdle();
      const held = await balanceOf(seller);
      expect(held.balance.available).toBe('0.00');
      expect(Number(held.balance.pending)).toBeGreaterThan(0);
      const run = await api().post('/api/admin/payouts/run').set('Authorization', adminBearer).send({});
      expect(run.body.data.payouts.filter((payout: { sellerId: string }) => payout.sellerId === seller.user.id)).toHaveLength(0);
      const listed = await api().get('/api/admin/disputes').query({ status: 'open' }).set('Authorization', adminBearer);
      expect(listed.status).toBe(200);
      expect(listed.body.data.disputes.find((row: { orderId: string }) => row.orderId === order.id)).toMatchObject({ status: 'open', amount: order.totalAmount, reason: 'fraudulent' });

      await ctx.deliver('charge.dispute.closed', { ...dispute, status: 'won' }).expect(200);
      await ctx.jobsIdle();
      expect((await balanceOf(seller)).balance.available).toBe(held.balance.pending);
    });

    it('takes back the net share once when lost, however often the event arrives', async () => {
      const { seller, order, intent } = await disputedSale();
      const amount = Math.round(Number(order.totalAmount) * 100);
      const dispute = { id: `dp_lost_${order.id}`, object: 'dispute', payment_intent: intent.paymentIntentId, amount, currency: 'usd', reason: 'product_not_received', status: 'needs_response' };
      // Out of order and twice over.
      await ctx.deliver('charge.dispute.closed', { ...dispute, status: 'lost' }).expect(200);
      await ctx.deliver('charge.dispute.created', dispute).expect(200);
      await ctx.deliver('charge.dispute.closed', { ...dispute, status: 'lost' }).expect(200);
      await ctx.jobsIdle();
      const after = await balanceOf(seller);
      expect(Number(after.balance.available) + Number(after.balance.pending)).toBe(0);
      const disputeEntries = after.entries.filter((entry: { type: string }) => entry.type === 'dispute');
      expect(disputeEntries).toHaveLength(1);
      expect(Number(disputeEntries[0].amount)).toBe(-45);
      const [row] = (await api().get('/api/admin/disputes').query({ status: 'lost' }).set('Authorization', adminBearer)).body.data.disputes.filter(
        (entry: { orderId: string }) => entry.orderId === order.id,
      );
      expect(row.status).toBe('lost');

      // The loss is netted in the seller's next payout.
      await deliveredCardOrder(seller, '50.00');
      const run = await api().post('/api/admin/payouts/run').set('Authorization', adminBearer).send({});
      expect(run.status).toBe(200);
      expect(run.body.data.payouts.find((payout: { sellerId: string }) => payout.sellerId === seller.user.id)).toMatchObject({
        grossAmount: '100.00',
        commissionAmount: '10.00',
        refundAmount: '45.00',
        netAmount: '45.00',
      });
    });
  });
});
