import { QueryTypes } from 'sequelize';
import request from 'supertest';
import { Cart, CartItem } from '../../src/models';
import { createAdmin, createProduct, defaultVariantId } from '../fixtures';
import { useTestApp } from '../support/app';
import { login, signedInUser, type SignedIn } from '../support/auth';
import { signedInSeller, type SignedInSeller } from '../support/catalog';
import { outboxFor } from '../support/outbox';

/**
 * Returns end to end: asked by the customer, decided and received by the seller (or an admin),
 * refunded to the cent with the discount and tax of the units, the seller's ledger and stock
 * following, and a line never returned beyond what was bought however many returns race.
 */
describe('returns', () => {
  const ctx = useTestApp();
  let adminBearer: string;
  let mugSeller: SignedInSeller;
  let teaSeller: SignedInSeller;
  let mug: string;
  let tea: string;

  const ADDRESS = { firstName: 'Ada', lastName: 'Lovelace', address1: '12 St James Square', city: 'London', postalCode: 'SW1Y 4JH', country: 'GB' };

  async function rows<T extends object>(sql: string, bind: Record<string, unknown> = {}): Promise<T[]> {
    return ctx.db.sequelize.query<T>(sql, { bind, type: QueryTypes.SELECT });
  }

  /** A delivered, paid order of the customer: mugs × mugs, a tea, with the code WELCOME10. */
  async function deliveredOrder(customer: SignedIn, mugs = 3): Promise<{ id: string; items: Array<{ id: string; productId: string }> }> {
    const cart = (await Cart.findOne({ where: { userId: customer.user.id } })) ?? (await Cart.create({ userId: customer.user.id, tokenHash: null, expiresAt: null }));
    await cart.update({ promoCode: 'WELCOME10' });
    await CartItem.create({ cartId: cart.id, productId: mug, variantId: await defaultVariantId(mug), quantity: mugs });
    await CartItem.create({ cartId: cart.id, productId: tea, variantId: await defaultVariantId(tea), quantity: 1 });
    const placed = await request(ctx.app).post('/api/orders').set('Authorization', customer.bearer).send({ shippingAddress: ADDRESS });
    expect(placed.status).toBe(201);
    const order = placed.body.data;
    await request(ctx.app).post(`/api/admin/orders/${order.id}/mark-paid`).set('Authorization', adminBearer).send({}).expect(200);
    for (const status of ['shipped', 'delivered']) {
      await request(ctx.app).patch(`/api/admin/orders/${order.id}/status`).set('Authorization', adminBearer).send({ status }).expect(200);
    }
    return order;
  }

  const ask = (customer: SignedIn, orderId: string, items: Array<{ orderItemId: string; quantity: number }>) =>
    request(ctx.app)
      .post(`/api/orders/${orderId}/returns`)
      .set('Authorization', customer.bearer)
      .send({ items: items.map((item) => ({ ...item, reason: 'Does not fit' })) });
  const move = (bearer: string, path: string, returnId: string, step: string, body: object = {}) =>
    request(ctx.app).post(`/api/${path}/returns/${returnId}/${step}`).set('Authorization', bearer).send(body);

  async function mailsWith(email: string, subject: RegExp, count: number): Promise<void> {
    for (let attempt = 0; attempt < 50 && outboxFor(email).filter((mail) => subject.test(mail.subject)).length < count; attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(outboxFor(email).filter((mail) => subject.test(mail.subject))).toHaveLength(count);
  }

  beforeAll(async () => {
    const admin = await createAdmin();
    adminBearer = `Bearer ${(await login(ctx.app, admin.email)).accessToken}`;
    mugSeller = await signedInSeller(ctx.app);
    teaSeller = await signedInSeller(ctx.app);
    mug = (await createProduct({ sellerId: mugSeller.user.id, price: '12.99', stockQuantity: 500 })).id;
    tea = (await createProduct({ sellerId: teaSeller.user.id, price: '5.00', stockQuantity: 500 })).id;
    await request(ctx.app).post('/api/seller/shipping-rates').set('Authorization', mugSeller.bearer).send({ name: 'Royal Mail', countries: ['GB'], price: '4.00' }).expect(201);
    await request(ctx.app).post('/api/admin/tax-rates').set('Authorization', adminBearer).send({ country: 'GB', rate: '0.2000', name: 'VAT', appliesToShipping: true }).expect(201);
    await request(ctx.app).post('/api/admin/promotions').set('Authorization', adminBearer).send({ code: 'WELCOME10', type: 'percentage', value: 10 }).expect(201);
  });

  it('refunds the units a seller receives back to the cent, with their discount and tax shares, and the shipping with the last line', async () => {
    const customer = await signedInUser(ctx.app);
    const order = await deliveredOrder(customer);
    const mugLine = order.items.find((item) => item.productId === mug)!;
    // Mugs 38.97 less 3.90 of the 10 % code, plus 20 % VAT of 35.07 (7.01): 42.08 paid for three.
    const [{ paid_amount: paidAmount }] = await rows<{ paid_amount: string }>('SELECT paid_amount FROM order_items WHERE id = $id', { id: mugLine.id });
    expect(paidAmount).toBe('42.08');

    const asked = await ask(customer, order.id, [{ orderItemId: mugLine.id, quantity: 2 }]);
    expect(asked.status).toBe(201);
    expect(asked.body.data).toMatchObject({ status: 'requested', items: [{ orderItemId: mugLine.id, quantity: 2, reason: 'Does not fit' }], sellerId: mugSeller.user.id });
    const returnId = asked.body.data.id;
    // Another seller, and the customer, cannot decide it.
    expect((await move(teaSeller.bearer, 'seller', returnId, 'approve')).status).toBe(404);
    expect((await move(customer.bearer, 'seller', returnId, 'approve')).status).toBe(403);
    expect((await move(mugSeller.bearer, 'seller', returnId, 'receive', { restock: true })).body.error.code).toBe('INVALID_STATUS_TRANSITION');
    await move(mugSeller.bearer, 'seller', returnId, 'approve', { note: 'Please use the prepaid label' }).expect(200);
    const [{ stock: before }] = await rows<{ stock: number }>('SELECT stock_quantity AS stock FROM product_variants WHERE product_id = $id', { id: mug });
    const received = await move(mugSeller.bearer, 'seller', returnId, 'receive', { restock: true });
    expect(received.status).toBe(200);
    // Two of three: round_half_up(42.08 × 2/3) = 28.05 back; the seller gives back 25.98 of the 38.97 credited.
    expect(received.body.data).toMatchObject({ status: 'refunded', refundAmount: '28.05', restock: true });
    expect(received.body.data.history.map((entry: { status: string; actor: { role: string } }) => [entry.status, entry.actor.role])).toEqual([
      ['requested', 'customer'],
      ['approved', 'seller'],
      ['received', 'seller'],
      ['refunded', 'seller'],
    ]);
    const [{ stock: after }] = await rows<{ stock: number }>('SELECT stock_quantity AS stock FROM product_variants WHERE product_id = $id', { id: mug });
    expect(after - before).toBe(2);
    const entries = await rows<{ type: string; amount: string }>(
      `SELECT type, amount::text FROM seller_ledger_entries WHERE order_id = $orderId AND seller_id = $sellerId AND refund_id IS NOT NULL ORDER BY type`,
      { orderId: order.id, sellerId: mugSeller.user.id },
    );
    expect(entries).toEqual([
      { type: 'commission', amount: '2.60' },
      { type: 'refund', amount: '-25.98' },
    ]);

    // The last mug: what is left of the line (42.08 − 28.05), and the seller's parcel (4.00 + 0.80 VAT).
    const last = await ask(customer, order.id, [{ orderItemId: mugLine.id, quantity: 1 }]);
    await move(adminBearer, 'admin', last.body.data.id, 'approve').expect(200);
    const lastReceived = await move(adminBearer, 'admin', last.body.data.id, 'receive', { restock: false });
    expect(lastReceived.body.data).toMatchObject({ status: 'refunded', refundAmount: '18.83' });
    const [figures] = await rows<{ refunded: string; credit_left: string; shipping_entries: string }>(
      `SELECT o.amount_refunded::text AS refunded,
              (SELECT (seller_amount - refunded_amount)::text FROM order_items WHERE id = $lineId) AS credit_left,
              (SELECT sum(amount)::text FROM seller_ledger_entries WHERE order_id = o.id AND seller_id = $sellerId AND type = 'shipping') AS shipping_entries
         FROM orders o WHERE o.id = $orderId`,
      { orderId: order.id, lineId: mugLine.id, sellerId: mugSeller.user.id },
    );
    expect(figures).toEqual({ refunded: '46.88', credit_left: '0.00', shipping_entries: '0.00' });
    const shown = await request(ctx.app).get(`/api/orders/${order.id}`).set('Authorization', customer.bearer).expect(200);
    expect(shown.body.data.items.find((item: { id: string }) => item.id === mugLine.id)).toMatchObject({ returnedQuantity: 3, refundedAmount: '38.97' });
    await mailsWith(customer.user.email, /return for order .* is approved/, 2);
    await mailsWith(customer.user.email, /^Refund of £?\$?[\d.]+ for your return/, 2);
  });

  it('never returns more units of a line than were bought, however many returns race', async () => {
    const customer = await signedInUser(ctx.app);
    const order = await deliveredOrder(customer);
    const mugLine = order.items.find((item) => item.productId === mug)!;
    const answers = await Promise.all(Array.from({ length: 10 }, () => ask(customer, order.id, [{ orderItemId: mugLine.id, quantity: 1 }])));
    expect(answers.filter((answer) => answer.status === 201)).toHaveLength(3);
    expect(new Set(answers.filter((answer) => answer.status !== 201).map((answer) => `${answer.status} ${answer.body.error.code}`))).toEqual(new Set(['409 RETURN_EXCEEDS_QUANTITY']));
    const [{ returned }] = await rows<{ returned: number }>('SELECT returned_quantity AS returned FROM order_items WHERE id = $id', { id: mugLine.id });
    expect(returned).toBe(3);
    // A rejected return gives its units back: they can be asked again.
    const first = answers.find((answer) => answer.status === 201)!;
    await move(mugSeller.bearer, 'seller', first.body.data.id, 'reject', { note: 'Used' }).expect(200);
    expect((await ask(customer, order.id, [{ orderItemId: mugLine.id, quantity: 1 }])).status).toBe(201);
    await mailsWith(customer.user.email, /was not accepted/, 1);
  });

  it('moves a return once when its decisions and receipts race: one refund, one restock', async () => {
    const customer = await signedInUser(ctx.app);
    const order = await deliveredOrder(customer);
    const mugLine = order.items.find((item) => item.productId === mug)!;
    const asked = (await ask(customer, order.id, [{ orderItemId: mugLine.id, quantity: 2 }])).body.data;
    const decisions = await Promise.all([
      move(mugSeller.bearer, 'seller', asked.id, 'approve'),
      move(adminBearer, 'admin', asked.id, 'approve'),
      move(mugSeller.bearer, 'seller', asked.id, 'approve'),
    ]);
    expect(decisions.filter((answer) => answer.status === 200)).toHaveLength(1);
    expect(decisions.filter((answer) => answer.status !== 200).map((answer) => answer.body.error.code)).toEqual(['INVALID_STATUS_TRANSITION', 'INVALID_STATUS_TRANSITION']);
    expect((await move(adminBearer, 'admin', asked.id, 'reject')).body.error.code).toBe('INVALID_STATUS_TRANSITION');
    const [{ stock: before }] = await rows<{ stock: number }>('SELECT stock_quantity AS stock FROM product_variants WHERE product_id = $id', { id: mug });
    const receipts = await Promise.all(Array.from({ length: 4 }, () => move(mugSeller.bearer, 'seller', asked.id, 'receive', { restock: true })));
    expect(receipts.filter((answer) => answer.status === 200)).toHaveLength(1);
    const [{ refunds, amount }] = await rows<{ refunds: number; amount: string }>(
      `SELECT count(*)::int AS refunds, coalesce(sum(amount), 0)::text AS amount FROM refunds WHERE order_id = $orderId`,
      { orderId: order.id },
    );
    expect({ refunds, amount }).toEqual({ refunds: 1, amount: '28.05' });
    const [{ stock: after }] = await rows<{ stock: number }>('SELECT stock_quantity AS stock FROM product_variants WHERE product_id = $id', { id: mug });
    expect(after - before).toBe(2);
  });

  it('refuses lines not delivered, outside the window, of two sellers at once, or of another customer', async () => {
    const customer = await signedInUser(ctx.app);
    const order = await deliveredOrder(customer, 1);
    const [mugLine, teaLine] = [order.items.find((item) => item.productId === mug)!, order.items.find((item) => item.productId === tea)!];
    const both = await ask(customer, order.id, [
      { orderItemId: mugLine.id, quantity: 1 },
      { orderItemId: teaLine.id, quantity: 1 },
    ]);
    expect([both.status, both.body.error.code]).toEqual([400, 'VALIDATION_ERROR']);
    const stranger = await signedInUser(ctx.app);
    expect((await ask(stranger, order.id, [{ orderItemId: mugLine.id, quantity: 1 }])).status).toBe(404);
    expect((await ask(customer, order.id, [{ orderItemId: mugLine.id, quantity: 2 }])).body.error.code).toBe('RETURN_EXCEEDS_QUANTITY');
    await ctx.db.sequelize.query(`UPDATE order_items SET delivered_at = now() - interval '31 days' WHERE id = $id`, { bind: { id: teaLine.id } });
    const late = await ask(customer, order.id, [{ orderItemId: teaLine.id, quantity: 1 }]);
    expect([late.status, late.body.error.code]).toEqual([409, 'RETURN_WINDOW_CLOSED']);

    const cart = await Cart.findOne({ where: { userId: customer.user.id } });
    await CartItem.create({ cartId: cart!.id, productId: tea, variantId: await defaultVariantId(tea), quantity: 1 });
    const unpaid = (await request(ctx.app).post('/api/orders').set('Authorization', customer.bearer).send({ shippingAddress: ADDRESS })).body.data;
    const early = await ask(customer, unpaid.id, [{ orderItemId: unpaid.items[0].id, quantity: 1 }]);
    expect([early.status, early.body.error.code]).toEqual([409, 'ORDER_ITEM_NOT_RETURNABLE']);
    for (const body of [{ items: [] }, { items: [{ orderItemId: mugLine.id, quantity: 0, reason: 'x' }] }, { items: [{ orderItemId: mugLine.id, quantity: 1 }] }]) {
      const res = await request(ctx.app).post(`/api/orders/${order.id}/returns`).set('Authorization', customer.bearer).send(body);
      expect([res.status, res.body.error.code]).toEqual([400, 'VALIDATION_ERROR']);
    }
    expect((await request(ctx.app).get('/api/seller/returns').set('Authorization', mugSeller.bearer).expect(200)).body.data.returns.every(
      (entry: { sellerId: string }) => entry.sellerId === mugSeller.user.id,
    )).toBe(true);
  });

  it('takes a return refunded after its line was paid out from the next payout', async () => {
    const customer = await signedInUser(ctx.app);
    const order = await deliveredOrder(customer, 1);
    const teaLine = order.items.find((item) => item.productId === tea)!;
    await ctx.db.sequelize.query(`UPDATE order_items SET delivered_at = now() - interval '8 days' WHERE order_id = $id`, { bind: { id: order.id } });
    await request(ctx.app).post('/api/admin/payouts/run').set('Authorization', adminBearer).send({}).expect(200);
    const [{ paid_out: paidOut }] = await rows<{ paid_out: string }>('SELECT payout_id IS NOT NULL AS paid_out FROM order_items WHERE id = $id', { id: teaLine.id });
    expect(paidOut).toBe(true);
    const asked = await ask(customer, order.id, [{ orderItemId: teaLine.id, quantity: 1 }]);
    await move(teaSeller.bearer, 'seller', asked.body.data.id, 'approve').expect(200);
    await move(teaSeller.bearer, 'seller', asked.body.data.id, 'receive', { restock: true }).expect(200);
    // The tea seller had nothing else: what was paid out comes back from what they earn next.
    const ledger = (await request(ctx.app).get('/api/seller/ledger').query({ limit: 100 }).set('Authorization', teaSeller.bearer).expect(200)).body.data;
    const taken = ledger.entries.filter((entry: { orderId: string; payoutId: string | null }) => entry.orderId === order.id && entry.payoutId === null);
    expect(taken.map((entry: { type: string }) => entry.type).sort()).toEqual(['commission', 'refund']);
    expect(Number(ledger.balance.available)).toBeLessThan(0);
  });
});
