import { QueryTypes } from 'sequelize';
import request from 'supertest';
import { createAdmin, createProduct } from '../fixtures';
import { login, signedInUser, type SignedIn } from '../support/auth';
import { signedInSeller } from '../support/catalog';
import { ADDRESS } from '../support/orders';
import { outboxFor } from '../support/outbox';
import { useStripeApp } from '../support/stripe-app';
import { Product } from '../../src/models';

/**
 * Card payments through the real Stripe SDK against a local stand-in of Stripe's API: intents,
 * webhooks delivered several times, out of order, racing the client's confirmation, forged;
 * refunds, also concurrent, also made in Stripe's dashboard; provider outages.
 */
describe('Stripe payments', () => {
  const ctx = useStripeApp();
  let adminBearer: string;

  beforeAll(async () => {
    const admin = await createAdmin();
    adminBearer = `Bearer ${(await login(ctx.app, admin.email)).accessToken}`;
  });

  async function placeOrder(customer: SignedIn, price = '40.00', quantity = 1, stock = 10) {
    const product = await createProduct({ price, stockQuantity: stock });
    await request(ctx.app).post('/api/cart/items').set('Authorization', customer.bearer).send({ productId: product.id, quantity }).expect(201);
    const placed = await request(ctx.app).post('/api/orders').set('Authorization', customer.bearer).send({ shippingAddress: ADDRESS });
    expect(placed.status).toBe(201);
    return { order: placed.body.data, product };
  }

  async function intentFor(customer: SignedIn, orderId: string) {
    const answer = await request(ctx.app).post('/api/payments/create-intent').set('Authorization', customer.bearer).send({ orderId });
    expect(answer.status).toBe(200);
    return answer.body.data as { provider: string; clientSecret: string; paymentIntentId: string; amount: string; currency: string };
  }

  async function paidOrder(customer: SignedIn, price = '40.00', quantity = 1) {
    const { order, product } = await placeOrder(customer, price, quantity);
    const intent = await intentFor(customer, order.id);
    const succeeded = ctx.stub.succeed(intent.paymentIntentId);
    await ctx.deliver('payment_intent.succeeded', succeeded).expect(200);
    await ctx.jobsIdle();
    return { order, product, intent };
  }

  function orderOf(customer: SignedIn, orderId: string) {
    return request(ctx.app).get(`/api/orders/${orderId}`).set('Authorization', customer.bearer);
  }

  async function rows<T extends object>(sql: string, bind: Record<string, unknown>): Promise<T[]> {
    return ctx.db.sequelize.query<T>(sql, { bind, type: QueryTypes.SELECT });
  }

  it('creates one intent per pending order, in minor units with the order id, and gives it back when asked again', async () => {
    const customer = await signedInUser(ctx.app);
    const { order } = await placeOrder(customer, '19.99', 2);
    const first = await intentFor(customer, order.id);
    expect(first).toMatchObject({ provider: 'stripe', amount: '39.98', currency: 'usd' });
    expect(first.clientSecret).toMatch(/^pi_.+_secret_/);
    const stripeSide = ctx.stub.intent(first.paymentIntentId);
    expect(stripeSide).toMatchObject({ amount: 3998, currency: 'usd', metadata: { orderId: order.id } });
    const creates = ctx.stub.calls.filter((call) => call.path === '/v1/payment_intents' && call.params.metadata && (call.params.metadata as { orderId: string }).orderId === order.id);
    expect(creates[0].idempotencyKey).toBe(`order-${order.id}-intent-1`);

    const again = await intentFor(customer, order.id);
    expect(again.paymentIntentId).toBe(first.paymentIntentId);
    expect(ctx.stub.calls.filter((call) => call.path === '/v1/payment_intents' && (call.params.metadata as { orderId?: string } | undefined)?.orderId === order.id)).toHaveLength(1);

    const other = await signedInUser(ctx.app);
    const foreign = await request(ctx.app).post('/api/payments/create-intent').set('Authorization', other.bearer).send({ orderId: order.id });
    expect(foreign.status).toBe(404);
  });

  it('confirms once when payment_intent.succeeded is delivered three times at once', async () => {
    const customer = await signedInUser(ctx.app);
    const { order } = await placeOrder(customer, '25.00');
    const intent = await intentFor(customer, order.id);
    const succeeded = ctx.stub.succeed(intent.paymentIntentId);
    const answers = await Promise.all([1, 2, 3].map(() => ctx.deliver('payment_intent.succeeded', succeeded, { eventId: `evt_triple_${order.id}` })));
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200]);
    expect(answers.filter((answer) => answer.body.data.duplicate === false)).toHaveLength(1);
    await ctx.jobsIdle();

    const confirmed = (await orderOf(customer, order.id)).body.data;
    expect(confirmed).toMatchObject({ status: 'confirmed', paymentStatus: 'paid', paymentProvider: 'stripe', amountPaid: '25.00' });
    expect(confirmed.transactions.filter((row: { type: string }) => row.type === 'payment')).toEqual([
      expect.objectContaining({ providerReference: intent.paymentIntentId, amount: '25.00', status: 'succeeded' }),
    ]);
    const history = (await request(ctx.app).get(`/api/orders/${order.id}/history`).set('Authorization', customer.bearer)).body.data.history;
    expect(history.filter((entry: { status: string }) => entry.status === 'confirmed')).toHaveLength(1);
    expect(outboxFor(customer.user.email).filter((mail) => /confirmed/.test(mail.subject))).toHaveLength(1);
  });

  it('confirms once when the client confirms and the webhook arrives at the same instant', async () => {
    const customer = await signedInUser(ctx.app);
    const { order } = await placeOrder(customer, '31.00');
    const intent = await intentFor(customer, order.id);
    const succeeded = ctx.stub.succeed(intent.paymentIntentId);
    const [confirm, webhook] = await Promise.all([
      request(ctx.app).post('/api/payments/confirm').set('Authorization', customer.bearer).send({ orderId: order.id, paymentIntentId: intent.paymentIntentId }),
      ctx.deliver('payment_intent.succeeded', succeeded).then(async (answer) => {
        await ctx.jobsIdle();
        return answer;
      }),
    ]);
    expect(confirm.status).toBe(200);
    expect(confirm.body.data.status).toBe('confirmed');
    expect(webhook.status).toBe(200);
    await ctx.jobsIdle();
    const history = (await request(ctx.app).get(`/api/orders/${order.id}/history`).set('Authorization', customer.bearer)).body.data.history;
    expect(history.map((entry: { status: string }) => entry.status)).toEqual(['pending', 'confirmed']);
    expect(outboxFor(customer.user.email).filter((mail) => /confirmed/.test(mail.subject))).toHaveLength(1);
    expect((await rows('SELECT id FROM transactions WHERE order_id = $id', { id: order.id })).length).toBe(1);
  });

  it('answers 402 to a confirm before the payment went through, and changes nothing', async () => {
    const customer = await signedInUser(ctx.app);
    const { order } = await placeOrder(customer);
    const intent = await intentFor(customer, order.id);
    const early = await request(ctx.app).post('/api/payments/confirm').set('Authorization', customer.bearer).send({ orderId: order.id, paymentIntentId: intent.paymentIntentId });
    expect(early.status).toBe(402);
    expect(early.body.error.code).toBe('PAYMENT_NOT_COMPLETED');
    expect((await orderOf(customer, order.id)).body.data.status).toBe('pending');
  });

  it('stays confirmed when payment_failed or canceled arrive after succeeded', async () => {
    const customer = await signedInUser(ctx.app);
    const { order, intent } = await paidOrder(customer);
    const stale = { ...ctx.stub.intent(intent.paymentIntentId), status: 'requires_payment_method', last_payment_error: { message: 'Your card was declined.' } };
    await ctx.deliver('payment_intent.payment_failed', stale).expect(200);
    await ctx.deliver('payment_intent.canceled', { ...stale, status: 'canceled' }).expect(200);
    await ctx.jobsIdle();
    const after = (await orderOf(customer, order.id)).body.data;
    expect(after).toMatchObject({ status: 'confirmed', paymentStatus: 'paid' });
    expect(after.transactions[0].status).toBe('succeeded');
  });

  it('refuses forged, stale, altered or unsigned webhooks and applies nothing', async () => {
    const customer = await signedInUser(ctx.app);
    const { order } = await placeOrder(customer);
    const intent = await intentFor(customer, order.id);
    const succeeded = ctx.stub.succeed(intent.paymentIntentId);
    const before = (await rows('SELECT id FROM webhook_events', {})).length;
    const forged = await ctx.deliver('payment_intent.succeeded', succeeded, { secret: 'whsec_not_ours' });
    const stale = await ctx.deliver('payment_intent.succeeded', succeeded, { timestamp: Math.floor(Date.now() / 1000) - 301 });
    const altered = await ctx.deliver('payment_intent.succeeded', succeeded, { tamper: (payload) => payload.replace('"amount":4000', '"amount":4001') });
    const unsigned = await request(ctx.app).post('/api/webhooks/stripe').set('Content-Type', 'application/json').send(ctx.stub.event('payment_intent.succeeded', succeeded).payload);
    for (const answer of [forged, stale, altered, unsigned]) {
      expect(answer.status).toBe(400);
      expect(answer.body.error.code).toBe('INVALID_SIGNATURE');
    }
    await ctx.jobsIdle();
    expect((await rows('SELECT id FROM webhook_events', {})).length).toBe(before);
    expect((await orderOf(customer, order.id)).body.data.status).toBe('pending');
  });

  it('does not apply a succeeded payment whose amount or currency differs from the order', async () => {
    const customer = await signedInUser(ctx.app);
    const { order } = await placeOrder(customer, '40.00');
    const intent = await intentFor(customer, order.id);
    ctx.stub.intent(intent.paymentIntentId).amount = 100;
    const cheap = ctx.stub.succeed(intent.paymentIntentId);
    await ctx.deliver('payment_intent.succeeded', cheap).expect(200);
    await ctx.jobsIdle();
    expect((await orderOf(customer, order.id)).body.data).toMatchObject({ status: 'pending', paymentStatus: 'unpaid' });
  });

  it('acknowledges events of unknown types and for unknown intents', async () => {
    await ctx.deliver('customer.created', { id: 'cus_123', object: 'customer' }).expect(200);
    await ctx.deliver('charge.dispute.created', { id: 'dp_1', object: 'dispute', payment_intent: 'pi_unknown', reason: 'fraudulent' }).expect(200);
    await ctx.jobsIdle();
  });

  it('answers 502 when Stripe fails or hangs on create-intent, writes nothing, and a retry gets the intent', async () => {
    const customer = await signedInUser(ctx.app);
    const { order } = await placeOrder(customer);
    ctx.stub.failNext(/^POST \/v1\/payment_intents$/);
    ctx.stub.failNext(/^POST \/v1\/payment_intents$/);
    const failed = await request(ctx.app).post('/api/payments/create-intent').set('Authorization', customer.bearer).send({ orderId: order.id });
    expect(failed.status).toBe(502);
    expect(failed.body.error.code).toBe('PAYMENT_PROVIDER_ERROR');
    expect(await rows('SELECT id FROM transactions WHERE order_id = $id', { id: order.id })).toEqual([]);

    ctx.stub.failNext(/^POST \/v1\/payment_intents$/, 'hang');
    ctx.stub.failNext(/^POST \/v1\/payment_intents$/, 'hang');
    const hung = await request(ctx.app).post('/api/payments/create-intent').set('Authorization', customer.bearer).send({ orderId: order.id });
    expect(hung.status).toBe(502);
    expect((await orderOf(customer, order.id)).body.data.paymentProvider).toBeNull();

    const retried = await intentFor(customer, order.id);
    expect(retried.paymentIntentId).toMatch(/^pi_/);
    expect(await rows('SELECT id FROM transactions WHERE order_id = $id', { id: order.id })).toHaveLength(1);
  });

  it('refunds part, then the rest, through Stripe; the order ends refunded with Stripe agreeing to the cent', async () => {
    const customer = await signedInUser(ctx.app);
    const { order, intent, product } = await paidOrder(customer, '30.00', 2);
    const refund = (body: Record<string, unknown>) => request(ctx.app).post(`/api/admin/orders/${order.id}/refund`).set('Authorization', adminBearer).send(body);

    const part = await refund({ amount: '15.50', reason: 'One cup arrived chipped' });
    expect(part.status).toBe(200);
    expect(part.body.data).toMatchObject({ status: 'confirmed', paymentStatus: 'partially_refunded', amountRefunded: '15.50' });
    expect(part.body.data.items[0].refundedAmount).toBe('15.50');
    const rest = await refund({ restock: true });
    expect(rest.status).toBe(200);
    expect(rest.body.data).toMatchObject({ status: 'refunded', paymentStatus: 'refunded', amountRefunded: '60.00' });
    expect(rest.body.data.items[0]).toMatchObject({ refundedAmount: '60.00', fulfillmentStatus: 'refunded' });
    expect(ctx.stub.refundedTotal(intent.paymentIntentId)).toBe(6000);
    expect((await Product.findByPk(product.id))?.stockQuantity).toBe(10);
    const refundCalls = ctx.stub.calls.filter((call) => call.path === '/v1/refunds' && call.method === 'POST' && (call.params.payment_intent as string) === intent.paymentIntentId);
    expect(refundCalls.every((call) => /^refund-[0-9a-f-]{36}$/.test(call.idempotencyKey ?? ''))).toBe(true);

    const more = await refund({ amount: '0.01' });
    expect(more.status).toBe(409);
    expect(more.body.error.code).toBe('REFUND_EXCEEDS_PAYMENT');
    // The charge.refunded webhook for refunds made here records nothing twice.
    await ctx.deliver('charge.refunded', { id: 'ch_x', object: 'charge', payment_intent: intent.paymentIntentId }).expect(200);
    await ctx.jobsIdle();
    const transactions = (await request(ctx.app).get(`/api/payments/orders/${order.id}`).set('Authorization', customer.bearer)).body.data.transactions;
    expect(transactions.map((row: { type: string; amount: string }) => `${row.type} ${row.amount}`)).toEqual(['payment 60.00', 'refund 15.50', 'refund 44.50']);
  });

  it('lets one of two concurrent partial refunds through when together they exceed the payment', async () => {
    const customer = await signedInUser(ctx.app);
    const { order, intent } = await paidOrder(customer, '50.00');
    const answers = await Promise.all(
      [1, 2].map(() => request(ctx.app).post(`/api/admin/orders/${order.id}/refund`).set('Authorization', adminBearer).send({ amount: '30.00' })),
    );
    expect(answers.map((answer) => answer.status).sort()).toEqual([200, 409]);
    expect(answers.find((answer) => answer.status === 409)?.body.error.code).toBe('REFUND_EXCEEDS_PAYMENT');
    expect(ctx.stub.refundedTotal(intent.paymentIntentId)).toBe(3000);
    expect((await orderOf(customer, order.id)).body.data.amountRefunded).toBe('30.00');
  });

  it('answers 502 when Stripe fails on a refund, keeps it reserved, and completes it with the same key on retry', async () => {
    const customer = await signedInUser(ctx.app);
    const { order, intent } = await paidOrder(customer, '20.00');
    ctx.stub.failNext(/^POST \/v1\/refunds$/);
    ctx.stub.failNext(/^POST \/v1\/refunds$/);
    const failed = await request(ctx.app).post(`/api/admin/orders/${order.id}/refund`).set('Authorization', adminBearer).send({ amount: '5.00' });
    expect(failed.status).toBe(502);
    expect((await orderOf(customer, order.id)).body.data).toMatchObject({ amountRefunded: '0.00', paymentStatus: 'paid' });
    expect(ctx.stub.refundedTotal(intent.paymentIntentId)).toBe(0);

    const retried = await request(ctx.app).post(`/api/admin/orders/${order.id}/refund`).set('Authorization', adminBearer).send({ amount: '5.00' });
    expect(retried.status).toBe(200);
    expect(retried.body.data).toMatchObject({ amountRefunded: '5.00', paymentStatus: 'partially_refunded' });
    expect(ctx.stub.refundedTotal(intent.paymentIntentId)).toBe(500);
    const keys = ctx.stub.calls.filter((call) => call.path === '/v1/refunds' && call.method === 'POST' && call.params.payment_intent === intent.paymentIntentId).map((call) => call.idempotencyKey);
    expect(new Set(keys).size).toBe(1);
  });

  it('records a failed row and nothing else when Stripe refuses a refund', async () => {
    const customer = await signedInUser(ctx.app);
    const { order, intent } = await paidOrder(customer, '20.00');
    // Refunded in the dashboard meanwhile: Stripe refuses more than what is left.
    ctx.stub.dashboardRefund(intent.paymentIntentId, 1500);
    const refused = await request(ctx.app).post(`/api/admin/orders/${order.id}/refund`).set('Authorization', adminBearer).send({ amount: '10.00' });
    expect(refused.status).toBe(502);
    const refunds = await rows<{ status: string }>('SELECT status FROM refunds WHERE order_id = $id', { id: order.id });
    expect(refunds).toEqual([{ status: 'failed' }]);
    expect((await orderOf(customer, order.id)).body.data.amountRefunded).toBe('0.00');
  });

  it('records refunds made in the Stripe dashboard when charge.refunded arrives', async () => {
    const customer = await signedInUser(ctx.app);
    const { order, intent } = await paidOrder(customer, '20.00');
    ctx.stub.dashboardRefund(intent.paymentIntentId, 700);
    const event = { id: 'ch_dash', object: 'charge', payment_intent: intent.paymentIntentId, amount_refunded: 700 };
    await ctx.deliver('charge.refunded', event).expect(200);
    await ctx.deliver('charge.refunded', event).expect(200);
    await ctx.jobsIdle();
    const after = (await orderOf(customer, order.id)).body.data;
    expect(after).toMatchObject({ amountRefunded: '7.00', paymentStatus: 'partially_refunded' });
    expect(after.transactions.filter((row: { type: string }) => row.type === 'refund')).toHaveLength(1);
  });

  it('flags a disputed order for admins', async () => {
    const customer = await signedInUser(ctx.app);
    const { order, intent } = await paidOrder(customer);
    await ctx.deliver('charge.dispute.created', { id: 'dp_2', object: 'dispute', payment_intent: intent.paymentIntentId, reason: 'fraudulent' }).expect(200);
    await ctx.jobsIdle();
    const listed = await request(ctx.app).get('/api/admin/orders').query({ disputed: true }).set('Authorization', adminBearer);
    expect(listed.body.data.orders.map((row: { id: string }) => row.id)).toEqual([order.id]);
    expect(listed.body.data.orders[0].disputed).toBe(true);
  });

  it('refunds a paid card order through Stripe when it is cancelled', async () => {
    const customer = await signedInUser(ctx.app);
    const { order, intent } = await paidOrder(customer, '12.00');
    const cancelled = await request(ctx.app).post(`/api/orders/${order.id}/cancel`).set('Authorization', customer.bearer).send({ reason: 'Ordered by mistake' });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.data).toMatchObject({ status: 'cancelled', paymentStatus: 'refunded', amountRefunded: '12.00' });
    expect(ctx.stub.refundedTotal(intent.paymentIntentId)).toBe(1200);
  });

  it('lists transactions for admins, filtered', async () => {
    const listed = await request(ctx.app).get('/api/admin/transactions').query({ type: 'refund', status: 'succeeded', limit: 100 }).set('Authorization', adminBearer);
    expect(listed.status).toBe(200);
    expect(listed.body.data.transactions.length).toBeGreaterThan(0);
    expect(listed.body.data.transactions.every((row: { type: string; status: string }) => row.type === 'refund' && row.status === 'succeeded')).toBe(true);
    const customer = await signedInUser(ctx.app);
    expect((await request(ctx.app).get('/api/admin/transactions').set('Authorization', customer.bearer)).status).toBe(403);
  });

  it('pays a seller with a Connect account by Stripe transfer, once, and records a refused transfer for an admin', async () => {
    // Loaded here: the app's modules are imported after the Stripe stand-in is configured (see useStripeApp).
    const { payoutService } = await import('../../src/modules/finance');
    const connected = await signedInSeller(ctx.app);
    await connected.profile.update({ payoutDetails: { stripeAccountId: 'acct_1Q2w3E4r' } });
    const broken = await signedInSeller(ctx.app);
    await broken.profile.update({ payoutDetails: { stripeAccountId: 'not-an-account' } });
    const customer = await signedInUser(ctx.app);
    for (const seller of [connected, broken]) {
      const product = await createProduct({ sellerId: seller.user.id, price: '50.00', stockQuantity: 5 });
      await request(ctx.app).post('/api/cart/items').set('Authorization', customer.bearer).send({ productId: product.id, quantity: 1 }).expect(201);
    }
    const order = (await request(ctx.app).post('/api/orders').set('Authorization', customer.bearer).send({ shippingAddress: ADDRESS })).body.data;
    const intent = await intentFor(customer, order.id);
    await ctx.deliver('payment_intent.succeeded', ctx.stub.succeed(intent.paymentIntentId)).expect(200);
    await ctx.jobsIdle();
    for (const status of ['shipped', 'delivered']) {
      await request(ctx.app).patch(`/api/admin/orders/${order.id}/status`).set('Authorization', adminBearer).send({ status }).expect(200);
    }
    await ctx.db.sequelize.query(`UPDATE order_items SET delivered_at = now() - interval '30 days' WHERE order_id = $id`, { bind: { id: order.id } });

    const created = await payoutService.runPayouts();
    await ctx.jobsIdle();
    const mine = created.find((payout) => payout.sellerId === connected.user.id)!;
    const [paid] = await rows<{ status: string; transfer_id: string; net_amount: string }>('SELECT status, transfer_id, net_amount FROM seller_payouts WHERE id = $id', { id: mine.id });
    expect(paid).toMatchObject({ status: 'paid', net_amount: '45.00' });
    const transfer = ctx.stub.transfers.get(paid.transfer_id);
    expect(transfer).toMatchObject({ amount: 4500, currency: 'usd', destination: 'acct_1Q2w3E4r', metadata: { payoutId: mine.id } });
    const transferCalls = ctx.stub.calls.filter((call) => call.path === '/v1/transfers' && (call.params.metadata as { payoutId?: string }).payoutId === mine.id);
    expect(transferCalls.map((call) => call.idempotencyKey)).toEqual([`payout-${mine.id}`]);
    expect(outboxFor(connected.user.email).filter((mail) => /^Payout sent/.test(mail.subject))).toHaveLength(1);

    const refused = created.find((payout) => payout.sellerId === broken.user.id)!;
    const [failed] = await rows<{ status: string; failure_reason: string }>('SELECT status, failure_reason FROM seller_payouts WHERE id = $id', { id: refused.id });
    expect(failed.status).toBe('pending');
    expect(failed.failure_reason).toMatch(/destination/i);
  });

  it('cancels the payment intent at Stripe when an unpaid order expires or is cancelled', async () => {
    const { cancellationService } = await import('../../src/modules/order');
    const customer = await signedInUser(ctx.app);
    const { order: expiring } = await placeOrder(customer);
    const expiringIntent = await intentFor(customer, expiring.id);
    await ctx.db.sequelize.query(`UPDATE orders SET expires_at = now() - interval '1 minute' WHERE id = $id`, { bind: { id: expiring.id } });
    await cancellationService.expireDue();
    expect(ctx.stub.intent(expiringIntent.paymentIntentId).status).toBe('canceled');
    expect((await orderOf(customer, expiring.id)).body.data.transactions[0].status).toBe('canceled');

    const { order: dropped } = await placeOrder(customer);
    const droppedIntent = await intentFor(customer, dropped.id);
    await request(ctx.app).post(`/api/orders/${dropped.id}/cancel`).set('Authorization', customer.bearer).send({}).expect(200);
    expect(ctx.stub.intent(droppedIntent.paymentIntentId).status).toBe('canceled');
  });

  it("keeps a received return's refund when Stripe is down, and completes it with the same key once Stripe answers", async () => {
    // Loaded here: the app's modules are imported after the Stripe stand-in is configured (see useStripeApp).
    const { refundService } = await import('../../src/modules/payment');
    const seller = await signedInSeller(ctx.app);
    const product = await createProduct({ sellerId: seller.user.id, price: '15.00', stockQuantity: 10 });
    const customer = await signedInUser(ctx.app);
    await request(ctx.app).post('/api/cart/items').set('Authorization', customer.bearer).send({ productId: product.id, quantity: 2 }).expect(201);
    const order = (await request(ctx.app).post('/api/orders').set('Authorization', customer.bearer).send({ shippingAddress: ADDRESS }).expect(201)).body.data;
    const intent = await intentFor(customer, order.id);
    await ctx.deliver('payment_intent.succeeded', ctx.stub.succeed(intent.paymentIntentId)).expect(200);
    await ctx.jobsIdle();
    for (const status of ['shipped', 'delivered']) {
      await request(ctx.app).patch(`/api/admin/orders/${order.id}/status`).set('Authorization', adminBearer).send({ status }).expect(200);
    }
    const asked = await request(ctx.app)
      .post(`/api/orders/${order.id}/returns`)
      .set('Authorization', customer.bearer)
      .send({ items: [{ orderItemId: order.items[0].id, quantity: 1, reason: 'Broken' }] })
      .expect(201);
    await request(ctx.app).post(`/api/seller/returns/${asked.body.data.id}/approve`).set('Authorization', seller.bearer).send({}).expect(200);

    ctx.stub.failNext(/^POST \/v1\/refunds$/);
    ctx.stub.failNext(/^POST \/v1\/refunds$/);
    const received = await request(ctx.app).post(`/api/seller/returns/${asked.body.data.id}/receive`).set('Authorization', seller.bearer).send({ restock: false });
    // The parcel is in: the move stands, and the refund waits reserved, with its job.
    expect(received.status).toBe(200);
    expect(received.body.data).toMatchObject({ status: 'received', refundAmount: '15.00' });
    expect(ctx.stub.refundedTotal(intent.paymentIntentId)).toBe(0);
    const [refund] = await rows<{ id: string; status: string }>('SELECT id, status FROM refunds WHERE return_id = $id', { id: asked.body.data.id });
    expect(refund.status).toBe('pending');
    const [job] = await rows<{ count: number }>(`SELECT count(*)::int AS count FROM outbox WHERE type = 'payments.settle-refund' AND payload->>'refundId' = $id`, { id: refund.id });
    expect(job.count).toBe(1);

    await refundService.settleRefundById(refund.id);
    const after = await request(ctx.app).get(`/api/seller/returns`).set('Authorization', seller.bearer).expect(200);
    expect(after.body.data.returns.find((entry: { id: string }) => entry.id === asked.body.data.id)).toMatchObject({ status: 'refunded' });
    expect(ctx.stub.refundedTotal(intent.paymentIntentId)).toBe(1500);
    const keys = ctx.stub.calls.filter((call) => call.path === '/v1/refunds' && call.method === 'POST' && call.params.payment_intent === intent.paymentIntentId).map((call) => call.idempotencyKey);
    expect(new Set(keys)).toEqual(new Set([`refund-${refund.id}`]));
  });
});
