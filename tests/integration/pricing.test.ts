import { QueryTypes } from 'sequelize';
import request from 'supertest';
import { Cart, CartItem, Order } from '../../src/models';
import { cancellationService } from '../../src/modules/order';
import { createAdmin, createCategory, createProduct, defaultVariantId } from '../fixtures';
import { useTestApp } from '../support/app';
import { login, signedInUser, type SignedIn } from '../support/auth';
import { signedInSeller, type SignedInSeller } from '../support/catalog';

/**
 * Pricing end to end: shipping per seller, tax by destination, promotion codes, who pays a
 * discount, the quote equal to the order, usage limits under load, and refunds to the cent.
 */
describe('pricing', () => {
  const ctx = useTestApp();
  let adminBearer: string;
  let tech: SignedInSeller;
  let paper: SignedInSeller;
  let headphones: string;
  let cable: string;
  let notebook: string;
  let express: string;

  const CALIFORNIA = { firstName: 'Grace', lastName: 'Hopper', address1: '1 Market St', city: 'San Francisco', state: 'CA', postalCode: '94105', country: 'US' };

  async function rows<T extends object>(sql: string, bind: Record<string, unknown> = {}): Promise<T[]> {
    return ctx.db.sequelize.query<T>(sql, { bind, type: QueryTypes.SELECT });
  }

  async function cartOf(customer: SignedIn, lines: Array<[string, number]>, promoCode: string | null = null): Promise<void> {
    const cart = (await Cart.findOne({ where: { userId: customer.user.id } })) ?? (await Cart.create({ userId: customer.user.id, tokenHash: null, expiresAt: null }));
    await cart.update({ promoCode });
    for (const [productId, quantity] of lines) await CartItem.create({ cartId: cart.id, productId, variantId: await defaultVariantId(productId), quantity });
  }

  const quote = (customer: SignedIn, body: object) => request(ctx.app).post('/api/cart/quote').set('Authorization', customer.bearer).send(body);
  const checkout = (customer: SignedIn, body: object) => request(ctx.app).post('/api/orders').set('Authorization', customer.bearer).send(body);
  const admin = (method: 'post' | 'patch', path: string, body: object) => request(ctx.app)[method](path).set('Authorization', adminBearer).send(body);

  async function ledger(seller: SignedIn): Promise<Array<{ type: string; amount: string; orderId: string | null }>> {
    const res = await request(ctx.app).get('/api/seller/ledger').query({ limit: 100 }).set('Authorization', seller.bearer).expect(200);
    return res.body.data.entries;
  }

  beforeAll(async () => {
    const user = await createAdmin();
    adminBearer = `Bearer ${(await login(ctx.app, user.email)).accessToken}`;
    tech = await signedInSeller(ctx.app);
    paper = await signedInSeller(ctx.app);
    headphones = (await createProduct({ sellerId: tech.user.id, price: '80.00', stockQuantity: 1000 })).id;
    cable = (await createProduct({ sellerId: tech.user.id, price: '12.50', stockQuantity: 1000 })).id;
    notebook = (await createProduct({ sellerId: paper.user.id, price: '9.99', stockQuantity: 1000 })).id;

    const rate = (seller: SignedIn, body: object) => request(ctx.app).post('/api/seller/shipping-rates').set('Authorization', seller.bearer).send(body).expect(201);
    await rate(tech, { name: 'Standard', countries: ['US'], price: '6.00', freeOver: '150.00', estimatedDays: 5 });
    express = (await rate(tech, { name: 'Express', countries: ['US'], price: '15.00', estimatedDays: 2 })).body.data.id;
    await rate(tech, { name: 'Worldwide', countries: ['*'], price: '25.00', estimatedDays: 10 });
    await rate(paper, { name: 'Flat', countries: ['US', 'CA'], price: '4.50', estimatedDays: 4 });

    await admin('post', '/api/admin/tax-rates', { country: 'US', rate: '0.0400', name: 'US default' }).expect(201);
    await admin('post', '/api/admin/tax-rates', { country: 'US', state: 'CA', rate: '0.0725', name: 'California', appliesToShipping: true }).expect(201);
    await admin('post', '/api/admin/promotions', { code: 'WELCOME10', type: 'percentage', value: 10 }).expect(201);
  });

  it('prices a two-seller order with a code, two shipping rates and a state tax to the cent, and the quote is the order placed after it', async () => {
    const customer = await signedInUser(ctx.app);
    await cartOf(customer, [
      [headphones, 1],
      [cable, 2],
      [notebook, 3],
    ]);
    await request(ctx.app).post('/api/cart/promo').set('Authorization', customer.bearer).send({ code: 'welcome10' }).expect(200);
    const body = { shippingAddress: CALIFORNIA, shippingRates: { [tech.user.id]: express } };

    const quoted = await quote(customer, { shippingAddress: { country: 'US', state: 'ca' }, shippingRates: body.shippingRates });
    expect(quoted.status).toBe(200);
    // 10 % of 134.97 is 13.50 (half up), spread 8.00 / 2.50 / 3.00 by largest remainder; 7.25 % on each discounted line and on shipping.
    expect(quoted.body.data).toMatchObject({ subtotal: '134.97', discountAmount: '13.50', shippingAmount: '19.50', taxAmount: '10.23', totalAmount: '151.20', promoCode: 'WELCOME10' });
    expect(quoted.body.data.lines.map((line: { lineTotal: string; discountAmount: string; taxAmount: string }) => [line.lineTotal, line.discountAmount, line.taxAmount])).toEqual([
      ['80.00', '8.00', '5.22'],
      ['25.00', '2.50', '1.63'],
      ['29.97', '3.00', '1.96'],
    ]);
    // One parcel per seller, by seller id.
    expect(quoted.body.data.shipping.map((parcel: { sellerId: string }) => parcel.sellerId)).toEqual([tech.user.id, paper.user.id].sort());
    expect(quoted.body.data.shipping).toEqual(
      expect.arrayContaining([
        { sellerId: tech.user.id, rateId: express, name: 'Express', amount: '15.00', discountAmount: '0.00', taxAmount: '1.09', estimatedDays: 2 },
        { sellerId: paper.user.id, rateId: expect.any(String), name: 'Flat', amount: '4.50', discountAmount: '0.00', taxAmount: '0.33', estimatedDays: 4 },
      ]),
    );

    const placed = await checkout(customer, body);
    expect(placed.status).toBe(201);
    const order = placed.body.data;
    for (const field of ['subtotal', 'discountAmount', 'shippingAmount', 'taxAmount', 'totalAmount'] as const) expect(order[field]).toBe(quoted.body.data[field]);
    expect(order.promotionCode).toBe('WELCOME10');
    // Lines are stored in variant order, quoted in cart order: the same figures either way.
    expect(order.items.map((item: { lineTotal: string; discountAmount: string; taxAmount: string }) => [item.lineTotal, item.discountAmount, item.taxAmount]).sort()).toEqual(
      quoted.body.data.lines.map((line: { lineTotal: string; discountAmount: string; taxAmount: string }) => [line.lineTotal, line.discountAmount, line.taxAmount]).sort(),
    );
    expect(order.shipping.map((parcel: object) => ({ ...parcel }))).toEqual(quoted.body.data.shipping);
    const cart = await request(ctx.app).get('/api/cart').set('Authorization', customer.bearer).expect(200);
    expect(cart.body.data.cart).toMatchObject({ items: [], promoCode: null });

    // A platform code: the sellers are credited their undiscounted lines and their shipping in full.
    await admin('post', `/api/admin/orders/${order.id}/mark-paid`, {}).expect(200);
    const techEntries = (await ledger(tech)).filter((entry) => entry.orderId === order.id);
    expect(techEntries.map((entry) => [entry.type, entry.amount]).sort()).toEqual(
      [
        ['commission', '-8.00'],
        ['commission', '-2.50'],
        ['sale', '80.00'],
        ['sale', '25.00'],
        ['shipping', '15.00'],
      ].sort(),
    );
    const paperEntries = (await ledger(paper)).filter((entry) => entry.orderId === order.id);
    expect(paperEntries.map((entry) => [entry.type, entry.amount]).sort()).toEqual([
      ['commission', '-3.00'],
      ['sale', '29.97'],
      ['shipping', '4.50'],
    ]);

    // Tax is the platform's and never in a ledger; the overview shows it, the shipping and the platform's discount.
    const day = { from: new Date(Date.now() - 3600_000).toISOString(), to: new Date(Date.now() + 3600_000).toISOString() };
    const overview = (await request(ctx.app).get('/api/admin/stats/overview').query(day).set('Authorization', adminBearer).expect(200)).body.data;
    const top = (await request(ctx.app).get('/api/admin/stats/top-sellers').query({ ...day, limit: 100 }).set('Authorization', adminBearer).expect(200)).body.data.sellers;
    const cents = (value: string) => Math.round(Number(value) * 100);
    const sellersTotal = top.reduce((sum: number, row: { grossRevenue: string; shipping: string }) => sum + cents(row.grossRevenue) + cents(row.shipping), 0);
    expect(sellersTotal + cents(overview.tax) - cents(overview.discounts.platform)).toBe(cents(overview.grossSales));
  });

  it('lets a seller fund a code for their own lines only: their sale and commission go down, the other seller is untouched', async () => {
    await request(ctx.app).post('/api/seller/promotions').set('Authorization', tech.bearer).send({ code: 'TECH20', type: 'percentage', value: 20 }).expect(201);
    const customer = await signedInUser(ctx.app);
    await cartOf(customer, [
      [headphones, 1],
      [notebook, 1],
    ], 'TECH20');
    const placed = await checkout(customer, { shippingAddress: { ...CALIFORNIA, state: 'NY' } });
    expect(placed.status).toBe(201);
    const order = placed.body.data;
    // 20 % of the headphones only; New York falls back to the US rate (4 %, not on shipping).
    expect(order.items.map((item: { unitPrice: string; discountAmount: string; taxAmount: string }) => [item.unitPrice, item.discountAmount, item.taxAmount]).sort()).toEqual([
      ['80.00', '16.00', '2.56'],
      ['9.99', '0.00', '0.40'],
    ]);
    expect(order).toMatchObject({ subtotal: '89.99', discountAmount: '16.00', shippingAmount: '10.50', taxAmount: '2.96', totalAmount: '87.45' });
    await admin('post', `/api/admin/orders/${order.id}/mark-paid`, {}).expect(200);
    const techEntries = (await ledger(tech)).filter((entry) => entry.orderId === order.id);
    expect(techEntries.map((entry) => [entry.type, entry.amount]).sort()).toEqual([
      ['commission', '-6.40'],
      ['sale', '64.00'],
      ['shipping', '6.00'],
    ]);
    const paperEntries = (await ledger(paper)).filter((entry) => entry.orderId === order.id);
    expect(paperEntries.map((entry) => [entry.type, entry.amount]).sort()).toEqual([
      ['commission', '-1.00'],
      ['sale', '9.99'],
      ['shipping', '4.50'],
    ]);
  });

  it('refuses a destination a seller does not ship to, naming the seller and the lines', async () => {
    const customer = await signedInUser(ctx.app);
    await cartOf(customer, [
      [headphones, 1],
      [notebook, 2],
    ]);
    const res = await quote(customer, { shippingAddress: { country: 'FR' } });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('SHIPPING_UNAVAILABLE');
    const [line] = (await request(ctx.app).get('/api/cart').set('Authorization', customer.bearer)).body.data.cart.items.filter((item: { product: { id: string } }) => item.product.id === notebook);
    expect(res.body.error.details).toEqual([{ sellerId: paper.user.id, itemIds: [line.id], country: 'FR' }]);
    const placed = await checkout(customer, { shippingAddress: { ...CALIFORNIA, country: 'FR', state: null } });
    expect([placed.status, placed.body.error.code]).toEqual([409, 'SHIPPING_UNAVAILABLE']);
    // A rate of the seller that does not cover the country is refused too; a rate of another seller is not a choice.
    const chosen = await quote(customer, { shippingAddress: { country: 'CA' }, shippingRates: { [tech.user.id]: express } });
    expect([chosen.status, chosen.body.error.code]).toEqual([409, 'SHIPPING_UNAVAILABLE']);
    const worldwide = await quote(customer, { shippingAddress: { country: 'CA' } });
    expect(worldwide.status).toBe(200);
    expect(worldwide.body.data.shipping.map((parcel: { name: string; amount: string }) => [parcel.name, parcel.amount]).sort()).toEqual([
      ['Flat', '4.50'],
      ['Worldwide', '25.00'],
    ]);
    expect(await Order.count({ where: { userId: customer.user.id } })).toBe(0);
  });

  it('gives a code with 5 uses left to exactly 5 of 50 checkouts at once, and takes nothing from the others', async () => {
    await admin('post', '/api/admin/promotions', { code: 'FIVELEFT', type: 'fixed', value: '5.00', usageLimit: 5 }).expect(201);
    const product = await createProduct({ sellerId: paper.user.id, price: '20.00', stockQuantity: 500 });
    const customers = await Promise.all(Array.from({ length: 50 }, () => signedInUser(ctx.app)));
    for (const customer of customers) await cartOf(customer, [[product.id, 1]], 'FIVELEFT');
    const answers = await Promise.all(customers.map((customer) => checkout(customer, { shippingAddress: CALIFORNIA })));
    const placed = answers.filter((answer) => answer.status === 201);
    expect(placed).toHaveLength(5);
    expect(placed.every((answer) => answer.body.data.discountAmount === '5.00')).toBe(true);
    const refused = answers.filter((answer) => answer.status !== 201);
    expect(refused.map((answer) => [answer.status, answer.body.error.code, answer.body.error.details[0].reason])).toEqual(Array(45).fill([409, 'PROMO_NOT_APPLICABLE', 'used_up']));
    const [promotion] = await rows<{ used_count: number; uses: number }>(
      `SELECT used_count, (SELECT count(*)::int FROM promotion_uses u WHERE u.promotion_id = p.id) AS uses FROM promotions p WHERE code = 'FIVELEFT'`,
    );
    expect(promotion).toEqual({ used_count: 5, uses: 5 });
    const [{ stock }] = await rows<{ stock: number }>('SELECT stock_quantity AS stock FROM product_variants WHERE product_id = $id', { id: product.id });
    expect(stock).toBe(495);
    expect(await Order.count({ where: { userId: customers.map((customer) => customer.user.id) } })).toBe(5);
  });

  it('takes uses of a code without a limit without waiting on its row, and counts them', async () => {
    const created = await admin('post', '/api/admin/promotions', { code: 'NOLIMIT', type: 'fixed', value: '1.00' }).expect(201);
    const product = await createProduct({ sellerId: paper.user.id, price: '20.00', stockQuantity: 500 });
    const customers = await Promise.all(Array.from({ length: 3 }, () => signedInUser(ctx.app)));
    for (const customer of customers) await cartOf(customer, [[product.id, 1]], 'NOLIMIT');
    // Another transaction holds the promotion's row as a limited code's checkout, or a cancel giving a use back, would.
    const holder = await ctx.db.sequelize.transaction();
    try {
      await ctx.db.sequelize.query(`UPDATE promotions SET updated_at = now() WHERE code = 'NOLIMIT'`, { transaction: holder });
      const timeout = new Promise<'waited'>((resolve) => setTimeout(() => resolve('waited'), 5_000));
      const answers = await Promise.race([Promise.all(customers.map((customer) => checkout(customer, { shippingAddress: CALIFORNIA }))), timeout]);
      expect(answers).not.toBe('waited');
      expect((answers as Array<{ status: number }>).map((answer) => answer.status)).toEqual([201, 201, 201]);
    } finally {
      await holder.rollback();
    }
    const listed = await request(ctx.app).get('/api/admin/promotions').set('Authorization', adminBearer).expect(200);
    expect(listed.body.data.promotions.find((promotion: { id: string }) => promotion.id === created.body.data.id)).toMatchObject({ usageLimit: null, usedCount: 3 });
  });

  it('counts every use taken without a limit when a limit is set while checkouts run, and keeps the count from then on', async () => {
    const created = await admin('post', '/api/admin/promotions', { code: 'LATELIMIT', type: 'fixed', value: '1.00' }).expect(201);
    const id = created.body.data.id;
    const product = await createProduct({ sellerId: paper.user.id, price: '20.00', stockQuantity: 500 });
    const customers = await Promise.all(Array.from({ length: 40 }, () => signedInUser(ctx.app)));
    for (const customer of customers) await cartOf(customer, [[product.id, 1]], 'LATELIMIT');
    let limited: Promise<{ status: number }> | undefined;
    const answers = await Promise.all(
      customers.map(async (customer) => {
        const answer = await checkout(customer, { shippingAddress: CALIFORNIA });
        // The limit is set as the first order comes back, while the others are being placed.
        limited ??= admin('patch', `/api/admin/promotions/${id}`, { usageLimit: 1000 });
        return answer;
      }),
    );
    expect(answers.map((answer) => answer.status).filter((status) => status !== 201)).toEqual([]);
    expect((await limited!).status).toBe(200);
    const counted = async () =>
      (await rows<{ used_count: number; uses: number }>(
        `SELECT used_count, (SELECT count(*)::int FROM promotion_uses u WHERE u.promotion_id = p.id AND u.released_at IS NULL) AS uses FROM promotions p WHERE p.id = $id`,
        { id },
      ))[0];
    expect(await counted()).toEqual({ used_count: 40, uses: 40 });
    // From then on checkouts and cancels keep the count.
    await request(ctx.app).post(`/api/orders/${answers[0].body.data.id}/cancel`).set('Authorization', customers[0].bearer).send({}).expect(200);
    expect(await counted()).toEqual({ used_count: 39, uses: 39 });
    const below = await admin('patch', `/api/admin/promotions/${id}`, { usageLimit: 10 });
    expect([below.status, below.body.error.code]).toEqual([409, 'PROMO_LIMIT_BELOW_USES']);
    // Without a limit again, the uses are counted from the use rows.
    await admin('patch', `/api/admin/promotions/${id}`, { usageLimit: null }).expect(200);
    await request(ctx.app).post(`/api/orders/${answers[1].body.data.id}/cancel`).set('Authorization', customers[1].bearer).send({}).expect(200);
    const listed = await request(ctx.app).get('/api/admin/promotions').set('Authorization', adminBearer).expect(200);
    expect(listed.body.data.promotions.find((promotion: { id: string }) => promotion.id === id)).toMatchObject({ usageLimit: null, usedCount: 38 });
  });

  it('sets a limit on a code without one only after the uses being taken commit, and counts them', async () => {
    const created = await admin('post', '/api/admin/promotions', { code: 'INFLIGHT', type: 'fixed', value: '1.00' }).expect(201);
    const customer = await signedInUser(ctx.app);
    await cartOf(customer, [[notebook, 1]]);
    const placed = await checkout(customer, { shippingAddress: CALIFORNIA }).expect(201);
    // A checkout of the code between its use and its commit: the use row is written, its reference holds the KEY SHARE lock.
    const inFlight = await ctx.db.sequelize.transaction();
    await ctx.db.sequelize.query('INSERT INTO promotion_uses (promotion_id, order_id, user_id) VALUES ($promotion, $order, $user)', {
      bind: { promotion: created.body.data.id, order: placed.body.data.id, user: customer.user.id },
      transaction: inFlight,
    });
    const limiting = admin('patch', `/api/admin/promotions/${created.body.data.id}`, { usageLimit: 5 }).then((res) => res);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await inFlight.commit();
    const limited = await limiting;
    expect(limited.status).toBe(200);
    expect(limited.body.data).toMatchObject({ usageLimit: 5, usedCount: 1 });
    const [{ used_count: usedCount }] = await rows<{ used_count: number }>('SELECT used_count FROM promotions WHERE id = $id', { id: created.body.data.id });
    expect(usedCount).toBe(1);
  });

  it('gives the use of an unpaid order back exactly once when its cancel and its expiry race', async () => {
    await admin('post', '/api/admin/promotions', { code: 'ONCEONLY', type: 'free_shipping', usageLimit: 1 }).expect(201);
    const customer = await signedInUser(ctx.app);
    await cartOf(customer, [[notebook, 1]], 'ONCEONLY');
    const placed = await checkout(customer, { shippingAddress: CALIFORNIA });
    expect(placed.status).toBe(201);
    // Free shipping: Paper & Co's 4.50 is taken off, and its tax with it.
    expect(placed.body.data).toMatchObject({ shippingAmount: '4.50', discountAmount: '4.50', taxAmount: '0.72', totalAmount: '10.71' });
    await ctx.db.sequelize.query(`UPDATE orders SET expires_at = now() - interval '1 minute' WHERE id = $id`, { bind: { id: placed.body.data.id } });
    await Promise.all([
      request(ctx.app).post(`/api/orders/${placed.body.data.id}/cancel`).set('Authorization', customer.bearer).send({}),
      cancellationService.expireDue(),
      cancellationService.expireDue(),
    ]);
    const [promotion] = await rows<{ used_count: number; released: number }>(
      `SELECT used_count, (SELECT count(*)::int FROM promotion_uses u WHERE u.promotion_id = p.id AND u.released_at IS NOT NULL) AS released FROM promotions p WHERE code = 'ONCEONLY'`,
    );
    expect(promotion).toEqual({ used_count: 0, released: 1 });
    // The use is free again: another customer gets it.
    const next = await signedInUser(ctx.app);
    await cartOf(next, [[notebook, 1]], 'ONCEONLY');
    expect((await checkout(next, { shippingAddress: CALIFORNIA })).status).toBe(201);
  });

  it('gives the use of an unpaid order back once when its cancel and its expiry race, for a code without a limit too', async () => {
    const created = await admin('post', '/api/admin/promotions', { code: 'OPENRACE', type: 'fixed', value: '1.00' }).expect(201);
    const customer = await signedInUser(ctx.app);
    await cartOf(customer, [[notebook, 1]], 'OPENRACE');
    const placed = await checkout(customer, { shippingAddress: CALIFORNIA });
    expect(placed.status).toBe(201);
    await ctx.db.sequelize.query(`UPDATE orders SET expires_at = now() - interval '1 minute' WHERE id = $id`, { bind: { id: placed.body.data.id } });
    await Promise.all([
      request(ctx.app).post(`/api/orders/${placed.body.data.id}/cancel`).set('Authorization', customer.bearer).send({}),
      cancellationService.expireDue(),
      cancellationService.expireDue(),
    ]);
    const [promotion] = await rows<{ used_count: number; released: number; live: number }>(
      `SELECT used_count, count(*) FILTER (WHERE u.released_at IS NOT NULL)::int AS released, count(*) FILTER (WHERE u.released_at IS NULL)::int AS live
         FROM promotions p LEFT JOIN promotion_uses u ON u.promotion_id = p.id WHERE p.code = 'OPENRACE' GROUP BY p.id`,
    );
    // No count is kept on the row of a code without a limit; its one use is released once.
    expect(promotion).toEqual({ used_count: 0, released: 1, live: 0 });
    const listed = await request(ctx.app).get('/api/admin/promotions').set('Authorization', adminBearer).expect(200);
    expect(listed.body.data.promotions.find((entry: { id: string }) => entry.id === created.body.data.id)).toMatchObject({ usedCount: 0 });
  });

  it("holds a customer's own limit and says why a code does not apply", async () => {
    await admin('post', '/api/admin/promotions', { code: 'JUSTONCE', type: 'fixed', value: '1.00', usageLimitPerCustomer: 1, minSubtotal: '10.00' }).expect(201);
    await admin('post', '/api/admin/promotions', { code: 'LATER', type: 'fixed', value: '1.00', startsAt: new Date(Date.now() + 86_400_000).toISOString() }).expect(201);
    const customer = await signedInUser(ctx.app);
    const apply = (code: string) => request(ctx.app).post('/api/cart/promo').set('Authorization', customer.bearer).send({ code });
    await cartOf(customer, [[notebook, 1]]);
    expect((await apply('JUSTONCE')).body.error.details[0]).toMatchObject({ reason: 'minimum_subtotal', minSubtotal: '10.00' });
    expect((await apply('LATER')).body.error.details[0]).toMatchObject({ reason: 'not_started' });
    expect((await apply('NOSUCHCODE')).status).toBe(404);
    await cartOf(customer, [[cable, 1]]);
    expect((await apply('justonce')).body.data.cart.promoCode).toBe('JUSTONCE');
    expect((await checkout(customer, { shippingAddress: CALIFORNIA })).status).toBe(201);
    await cartOf(customer, [[cable, 1]], 'JUSTONCE');
    const again = await checkout(customer, { shippingAddress: CALIFORNIA });
    expect([again.status, again.body.error.code, again.body.error.details[0].reason]).toEqual([409, 'PROMO_NOT_APPLICABLE', 'already_used']);
    expect((await request(ctx.app).delete('/api/cart/promo').set('Authorization', customer.bearer).expect(200)).body.data.cart.promoCode).toBeNull();
    expect((await checkout(customer, { shippingAddress: CALIFORNIA })).status).toBe(201);
  });

  it("puts a code on a guest's cart by its token and on a customer's cart not made yet, and counts the customer's own uses of it", async () => {
    const guest = await request(ctx.app).post('/api/cart').expect(201);
    const token = guest.body.data.cartToken as string;
    await request(ctx.app).post('/api/cart/items').set('X-Cart-Token', token).send({ productId: cable, quantity: 2 }).expect(201);
    const applied = await request(ctx.app).post('/api/cart/promo').set('X-Cart-Token', token).send({ code: ' welcome10 ' }).expect(200);
    expect(applied.body.data.cart).toMatchObject({ promoCode: 'WELCOME10', itemCount: 2, subtotal: '25.00' });
    const unknown = await request(ctx.app).post('/api/cart/promo').set('X-Cart-Token', token).send({ code: 'NOSUCHCODE' });
    expect([unknown.status, unknown.body.error.code]).toEqual([404, 'PROMO_NOT_FOUND']);

    const newcomer = await signedInUser(ctx.app);
    const first = await request(ctx.app).post('/api/cart/promo').set('Authorization', newcomer.bearer).send({ code: 'WELCOME10' });
    // Their cart is made, and an empty cart has nothing the code applies to.
    expect([first.status, first.body.error.code, first.body.error.details[0].reason]).toEqual([409, 'PROMO_NOT_APPLICABLE', 'no_eligible_line']);
    expect(await Cart.count({ where: { userId: newcomer.user.id } })).toBe(1);
    // Two first requests at once of a customer with no cart: one cart is made, and both are answered.
    const twice = await signedInUser(ctx.app);
    const both = await Promise.all([1, 2].map(() => request(ctx.app).post('/api/cart/promo').set('Authorization', twice.bearer).send({ code: 'WELCOME10' })));
    expect(both.map((res) => [res.status, res.body.error?.details?.[0]?.reason])).toEqual([
      [409, 'no_eligible_line'],
      [409, 'no_eligible_line'],
    ]);
    expect(await Cart.count({ where: { userId: twice.user.id } })).toBe(1);

    await admin('post', '/api/admin/promotions', { code: 'ONCEEACH', type: 'fixed', value: '1.00', usageLimitPerCustomer: 1 }).expect(201);
    const regular = await signedInUser(ctx.app);
    await cartOf(regular, [[cable, 1]]);
    await request(ctx.app).post('/api/cart/promo').set('Authorization', regular.bearer).send({ code: 'onceeach' }).expect(200);
    expect((await checkout(regular, { shippingAddress: CALIFORNIA })).status).toBe(201);
    await cartOf(regular, [[cable, 1]]);
    const spent = await request(ctx.app).post('/api/cart/promo').set('Authorization', regular.bearer).send({ code: 'ONCEEACH' });
    expect([spent.status, spent.body.error.code, spent.body.error.details[0].reason]).toEqual([409, 'PROMO_NOT_APPLICABLE', 'already_used']);
    // Another customer's use is not theirs.
    await cartOf(newcomer, [[cable, 1]]);
    await request(ctx.app).post('/api/cart/promo').set('Authorization', newcomer.bearer).send({ code: 'ONCEEACH' }).expect(200);
  });

  it('refunds exactly what was paid for the lines an admin cancels, with their discount and tax shares and the seller’s shipping', async () => {
    const customer = await signedInUser(ctx.app);
    await cartOf(customer, [
      [headphones, 1],
      [cable, 2],
      [notebook, 3],
    ], 'WELCOME10');
    const order = (await checkout(customer, { shippingAddress: CALIFORNIA, shippingRates: { [tech.user.id]: express } })).body.data;
    expect(order.totalAmount).toBe('151.20');
    await admin('post', `/api/admin/orders/${order.id}/mark-paid`, {}).expect(200);
    await request(ctx.app).patch(`/api/seller/orders/${order.id}/items/fulfil`).set('Authorization', tech.bearer).send({ trackingNumber: 'TRACK-1' }).expect(200);
    const cancel = await request(ctx.app).post(`/api/orders/${order.id}/cancel`).set('Authorization', adminBearer).send({ reason: 'Out of notebooks' });
    expect(cancel.status).toBe(200);
    // The notebooks: 29.97 − 3.00 + 1.96 tax; Paper & Co's parcel: 4.50 + 0.33 tax.
    expect(cancel.body.data).toMatchObject({ amountRefunded: '33.76', paymentStatus: 'partially_refunded', status: 'shipped' });
    const paperEntries = (await ledger(paper)).filter((entry) => entry.orderId === order.id);
    expect(paperEntries.reduce((sum, entry) => sum + Math.round(Number(entry.amount) * 100), 0)).toBe(0);
    expect(paperEntries.map((entry) => [entry.type, entry.amount]).sort()).toEqual([
      ['commission', '-3.00'],
      ['commission', '3.00'],
      ['refund', '-29.97'],
      ['sale', '29.97'],
      ['shipping', '-4.50'],
      ['shipping', '4.50'],
    ]);
    const techEntries = (await ledger(tech)).filter((entry) => entry.orderId === order.id);
    expect(techEntries.map((entry) => entry.type).sort()).toEqual(['commission', 'commission', 'sale', 'sale', 'shipping']);

    // The rest, refunded in full by the admin: everything paid comes back, and every credit is taken back.
    await admin('post', `/api/admin/orders/${order.id}/refund`, {}).expect(200);
    const [figures] = await rows<{ paid: string; refunded: string; lines_left: string; credit_left: string }>(
      `SELECT o.amount_paid AS paid, o.amount_refunded AS refunded,
              (SELECT sum(paid_amount - paid_refunded) FROM order_items WHERE order_id = o.id) + (SELECT sum(paid_amount - paid_refunded) FROM order_shipping WHERE order_id = o.id) AS lines_left,
              (SELECT sum(seller_amount - refunded_amount) FROM order_items WHERE order_id = o.id) AS credit_left
         FROM orders o WHERE o.id = $id`,
      { id: order.id },
    );
    expect(figures).toEqual({ paid: '151.20', refunded: '151.20', lines_left: '0.00', credit_left: '0.00' });
    const techAfter = (await ledger(tech)).filter((entry) => entry.orderId === order.id);
    expect(techAfter.reduce((sum, entry) => sum + Math.round(Number(entry.amount) * 100), 0)).toBe(0);
  });

  it('applies a code for a category to the categories under it, and to nothing else', async () => {
    const stationery = await createCategory();
    const pens = await createCategory({ parentId: stationery.id });
    const pen = await createProduct({ sellerId: paper.user.id, price: '4.00', stockQuantity: 100, categoryId: pens.id });
    const other = await createProduct({ sellerId: paper.user.id, price: '6.00', stockQuantity: 100, categoryId: (await createCategory()).id });
    await admin('post', '/api/admin/promotions', { code: 'STATIONERY', type: 'percentage', value: 50, categoryIds: [stationery.id] }).expect(201);
    const customer = await signedInUser(ctx.app);
    await cartOf(customer, [
      [pen.id, 1],
      [other.id, 1],
    ], 'STATIONERY');
    const quoted = await quote(customer, { shippingAddress: { country: 'US' } });
    expect(quoted.status).toBe(200);
    expect(quoted.body.data.lines.map((line: { unitPrice: string; discountAmount: string }) => [line.unitPrice, line.discountAmount])).toEqual([
      ['4.00', '2.00'],
      ['6.00', '0.00'],
    ]);
  });

  it('refuses hostile input with 4xx and writes nothing', async () => {
    const customer = await signedInUser(ctx.app);
    await cartOf(customer, [[notebook, 1]]);
    const bad = [
      { shippingAddress: { country: 'XX' } },
      { shippingAddress: {} },
      { shippingAddress: { country: 'US' }, shippingRates: { 'not-a-uuid': express } },
      { shippingAddress: { country: 'US' }, shippingRates: { [paper.user.id]: 'express' } },
      { shippingAddress: { country: 'US' }, coupon: 'X' },
    ];
    for (const body of bad) {
      const res = await quote(customer, body);
      expect([res.status, res.body.error.code]).toEqual([400, 'VALIDATION_ERROR']);
    }
    for (const code of ['', 'a'.repeat(51), 'DROP TABLE;']) {
      const res = await request(ctx.app).post('/api/cart/promo').set('Authorization', customer.bearer).send({ code });
      expect([res.status, res.body.error.code]).toEqual([400, 'VALIDATION_ERROR']);
    }
    const unknownRate = await quote(customer, { shippingAddress: { country: 'US' }, shippingRates: { [paper.user.id]: express } });
    expect([unknownRate.status, unknownRate.body.error.code]).toEqual([409, 'SHIPPING_UNAVAILABLE']);
    const empty = await quote(await signedInUser(ctx.app), { shippingAddress: { country: 'US' } });
    expect([empty.status, empty.body.error.code]).toEqual([400, 'CART_EMPTY']);
  });
});
