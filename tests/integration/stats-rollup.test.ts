import { QueryTypes } from 'sequelize';
import request from 'supertest';
import { createMigrator } from '../../src/platform/db/migrator';
import { disputeService, ledgerService, statsService } from '../../src/modules/finance';
import { cancellationService } from '../../src/modules/order';
import type { Caller } from '../../src/modules/accounts';
import { createAdmin, createProduct } from '../fixtures';
import { useTestApp } from '../support/app';
import { login, signedInUser, type SignedIn } from '../support/auth';
import { signedInSeller, type SignedInSeller } from '../support/catalog';

/**
 * The per-day sales the statistics read (sales_days) equal, to the cent, the raw aggregate of the
 * orders, lines, parcels and refund transactions under the money rules, after payments, partial
 * and full refunds, returns, a cancellation and disputes; `stats:rebuild` and migration 0017's
 * backfill write the same rows as the live upkeep; the overview's orders by status are those of the rows.
 */
describe('sales per day', () => {
  const ctx = useTestApp();
  let admin: Caller;
  let adminBearer: string;
  let sellers: SignedInSeller[];
  let products: string[];

  const CALIFORNIA = { firstName: 'Grace', lastName: 'Hopper', address1: '1 Market St', city: 'San Francisco', state: 'CA', postalCode: '94105', country: 'US' };

  async function rows<T extends object>(sql: string, bind: Record<string, unknown> = {}): Promise<T[]> {
    return ctx.db.sequelize.query<T>(sql, { bind, type: QueryTypes.SELECT });
  }

  type Day = Record<string, string | number>;

  /** sales_days as stored, every figure as text. */
  const kept = () =>
    rows<Day>(
      `SELECT day::text, orders, amount_paid::text, tax::text, shipping::text, platform_discount::text, seller_discount::text, commission::text, refunds::text
         FROM sales_days ORDER BY day`,
    );

  /** The same figures from the rows themselves, by the contract's definitions (days with nothing left out). */
  const raw = () =>
    rows<Day>(
      `WITH paid AS (
         SELECT (o.paid_at AT TIME ZONE 'UTC')::date AS day, count(*)::int AS orders, sum(o.amount_paid) AS amount_paid, sum(o.tax_amount) AS tax,
                coalesce(sum((SELECT sum(s.seller_amount) FROM order_shipping s WHERE s.order_id = o.id)), 0) AS shipping,
                sum(CASE WHEN o.discount_funded_by = 'platform' THEN o.discount_amount ELSE 0 END) AS platform_discount,
                sum(CASE WHEN o.discount_funded_by = 'seller' THEN o.discount_amount ELSE 0 END) AS seller_discount,
                coalesce(sum((SELECT sum(round((oi.seller_amount - oi.refunded_amount) * oi.commission_rate, 2)) FROM order_items oi WHERE oi.order_id = o.id)), 0) AS commission
           FROM orders o
          WHERE o.paid_at IS NOT NULL AND o.payment_status IN ('paid', 'partially_refunded', 'refunded')
          GROUP BY 1
       ), refunded AS (
         SELECT (t.created_at AT TIME ZONE 'UTC')::date AS day, sum(t.amount) AS refunds
           FROM transactions t WHERE t.type = 'refund' AND t.status = 'succeeded' AND NOT t.surplus GROUP BY 1
       )
       SELECT coalesce(p.day, r.day)::text AS day, coalesce(p.orders, 0) AS orders, coalesce(p.amount_paid, 0)::numeric(16,2)::text AS amount_paid,
              coalesce(p.tax, 0)::numeric(16,2)::text AS tax, coalesce(p.shipping, 0)::numeric(16,2)::text AS shipping, coalesce(p.platform_discount, 0)::numeric(16,2)::text AS platform_discount,
              coalesce(p.seller_discount, 0)::numeric(16,2)::text AS seller_discount, coalesce(p.commission, 0)::numeric(16,2)::text AS commission, coalesce(r.refunds, 0)::numeric(16,2)::text AS refunds
         FROM paid p FULL JOIN refunded r ON r.day = p.day
        ORDER BY 1`,
    );

  async function placeOrder(customer: SignedIn, lines: Array<[string, number]>, code?: string): Promise<{ id: string; items: Array<{ id: string }> }> {
    for (const [productId, quantity] of lines) {
      await request(ctx.app).post('/api/cart/items').set('Authorization', customer.bearer).send({ productId, quantity }).expect(201);
    }
    if (code) await request(ctx.app).post('/api/cart/promo').set('Authorization', customer.bearer).send({ code }).expect(200);
    return (await request(ctx.app).post('/api/orders').set('Authorization', customer.bearer).send({ shippingAddress: CALIFORNIA }).expect(201)).body.data;
  }

  const asAdmin = (method: 'post' | 'patch', path: string, body: object = {}) => request(ctx.app)[method](path).set('Authorization', adminBearer).send(body);

  async function paidOrder(customer: SignedIn, lines: Array<[string, number]>, code?: string): Promise<{ id: string; items: Array<{ id: string }> }> {
    const order = await placeOrder(customer, lines, code);
    await asAdmin('post', `/api/admin/orders/${order.id}/mark-paid`).expect(200);
    return order;
  }

  async function deliver(orderId: string): Promise<void> {
    for (const status of ['shipped', 'delivered']) await asAdmin('patch', `/api/admin/orders/${orderId}/status`, { status }).expect(200);
  }

  /** A card payment of the order at the provider, so that a dispute can name it. */
  async function cardPayment(orderId: string): Promise<string> {
    const reference = `pi_rollup_${orderId.slice(0, 8)}`;
    await rows(
      `INSERT INTO transactions (order_id, type, provider, provider_reference, amount, currency, status)
       SELECT id, 'payment', 'stripe', $reference, amount_paid, currency, 'succeeded' FROM orders WHERE id = $orderId`,
      { orderId, reference },
    );
    return reference;
  }

  beforeAll(async () => {
    const user = await createAdmin();
    admin = { id: user.id, role: 'admin' };
    adminBearer = `Bearer ${(await login(ctx.app, user.email)).accessToken}`;
    sellers = [await signedInSeller(ctx.app), await signedInSeller(ctx.app)];
    await sellers[1].profile.update({ commissionRate: '0.1250' });
    products = [
      (await createProduct({ sellerId: sellers[0].user.id, price: '80.00', stockQuantity: 1000 })).id,
      (await createProduct({ sellerId: sellers[0].user.id, price: '12.35', stockQuantity: 1000 })).id,
      (await createProduct({ sellerId: sellers[1].user.id, price: '9.99', stockQuantity: 1000 })).id,
    ];
    await request(ctx.app).post('/api/seller/shipping-rates').set('Authorization', sellers[0].bearer).send({ name: 'Standard', countries: ['US'], price: '6.00', estimatedDays: 5 }).expect(201);
    await request(ctx.app).post('/api/seller/shipping-rates').set('Authorization', sellers[1].bearer).send({ name: 'Flat', countries: ['US'], price: '4.50', estimatedDays: 4 }).expect(201);
    await asAdmin('post', '/api/admin/tax-rates', { country: 'US', state: 'CA', rate: '0.0725', name: 'California', appliesToShipping: true }).expect(201);
    await asAdmin('post', '/api/admin/promotions', { code: 'ROLLUP10', type: 'percentage', value: 10 }).expect(201);
  });

  it('equals the raw aggregate after payments, refunds, returns, a cancellation and disputes, and is what stats:rebuild and the migration write', async () => {
    const customers = await Promise.all(Array.from({ length: 4 }, () => signedInUser(ctx.app)));
    const [headphones, cable, notebook] = products;

    // Orders paid "two days ago": moved by hand and rebuilt (as an operator would), so that today's refunds leave another day's commission.
    const old = [await paidOrder(customers[0], [[headphones, 1], [notebook, 2]], 'ROLLUP10'), await paidOrder(customers[1], [[cable, 3]])];
    await rows(`UPDATE orders SET paid_at = paid_at - interval '2 days' WHERE id = ANY($ids::uuid[])`, { ids: old.map((order) => order.id) });
    await ledgerService.rebuildSalesDays();

    const today = [
      await paidOrder(customers[0], [[headphones, 2], [cable, 1], [notebook, 1]]),
      await paidOrder(customers[1], [[notebook, 5]], 'ROLLUP10'),
      await paidOrder(customers[2], [[cable, 2], [notebook, 1]]),
      await paidOrder(customers[3], [[headphones, 1]]),
      await paidOrder(customers[2], [[cable, 1]]),
    ];
    // Placed and never paid: no sale.
    await placeOrder(customers[3], [[notebook, 1]]);

    // Partial refunds (an odd amount, spread over lines, tax and shipping), a full one, and one of an old order.
    await asAdmin('post', `/api/admin/orders/${today[0].id}/refund`, { amount: '13.37' }).expect(200);
    await asAdmin('post', `/api/admin/orders/${today[0].id}/refund`, { amount: '0.01' }).expect(200);
    await asAdmin('post', `/api/admin/orders/${today[3].id}/refund`, {}).expect(200);
    await asAdmin('post', `/api/admin/orders/${old[0].id}/refund`, { amount: '20.00' }).expect(200);
    // A return of some units of a delivered line, received: refunded through the provider.
    await deliver(today[2].id);
    await deliver(old[1].id);
    for (const [order, customer, quantity] of [
      [today[2], customers[2], 1],
      [old[1], customers[1], 2],
    ] as const) {
      const asked = await request(ctx.app)
        .post(`/api/orders/${order.id}/returns`)
        .set('Authorization', customer.bearer)
        .send({ items: [{ orderItemId: order.items[0].id, quantity, reason: 'Not as described' }] })
        .expect(201);
      await asAdmin('post', `/api/admin/returns/${asked.body.data.id}/approve`).expect(200);
      await asAdmin('post', `/api/admin/returns/${asked.body.data.id}/receive`, { restock: true }).expect(200);
    }
    // A paid order cancelled by an admin: refunded in full.
    await cancellationService.cancel(today[4].id, admin, 'Out of stock at the warehouse');
    // Disputes: one lost, one won (the ledger moves; the sales figures do not).
    await deliver(today[1].id);
    for (const [order, status] of [
      [today[1], 'lost'],
      [old[0], 'won'],
    ] as const) {
      const reference = await cardPayment(order.id);
      const [{ amount }] = await rows<{ amount: string }>('SELECT (amount_paid - amount_refunded)::text AS amount FROM orders WHERE id = $id', { id: order.id });
      const dispute = { providerDisputeId: `dp_${status}_${order.id}`, paymentReference: reference, amount: Math.round(Number(amount) * 100), currency: 'usd', reason: 'fraudulent' };
      await disputeService.recordDispute({ ...dispute, status: 'needs_response' });
      await disputeService.recordDispute({ ...dispute, status });
    }
    await ctx.jobsIdle();

    const live = await kept();
    const [counts] = await rows<{ refunds: number; refunded_days: number }>(
      `SELECT count(*)::int AS refunds, count(DISTINCT (created_at AT TIME ZONE 'UTC')::date)::int AS refunded_days FROM transactions WHERE type = 'refund' AND status = 'succeeded'`,
    );
    expect(counts.refunds).toBe(7);
    expect(live.length).toBeGreaterThanOrEqual(2);
    expect(live.some((day) => day.refunds !== '0.00')).toBe(true);
    expect(live.some((day) => day.tax !== '0.00' && day.shipping !== '0.00' && day.platform_discount !== '0.00')).toBe(true);
    expect(live).toEqual(await raw());

    // npm run stats:rebuild writes the same rows.
    await ledgerService.rebuildSalesDays();
    expect(await kept()).toEqual(live);

    // Migration 0017 taken back and applied again: its backfill writes the same rows too.
    const migrator = createMigrator(ctx.db.sequelize);
    await migrator.down({ to: '0017-sales-days-refunds' });
    const [{ columns }] = await rows<{ columns: string[] }>(
      `SELECT array_agg(column_name::text) AS columns FROM information_schema.columns WHERE table_name = 'sales_days' AND column_name = 'refunds'`,
    );
    expect(columns).toBeNull();
    await migrator.up();
    expect(await kept()).toEqual(live);

    // The overview and the series over these days read the same figures as the rows.
    const from = new Date(`${live[0].day as string}T00:00:00Z`);
    const to = new Date(new Date(`${live[live.length - 1].day as string}T00:00:00Z`).getTime() + 86_400_000);
    const overview = (await request(ctx.app).get('/api/admin/stats/overview').query({ from: from.toISOString(), to: to.toISOString() }).set('Authorization', adminBearer).expect(200)).body.data;
    const cents = (field: string) => live.reduce((total, day) => total + Math.round(Number(day[field]) * 100), 0);
    expect(Math.round(Number(overview.refunds) * 100)).toBe(cents('refunds'));
    expect(Math.round(Number(overview.grossSales) * 100)).toBe(cents('amount_paid'));
    expect(Math.round(Number(overview.commission) * 100)).toBe(cents('commission'));
    // Orders placed in the period by their status now (the unpaid one included; statuses with none left out).
    const byStatus = await rows<{ status: string; n: number }>(
      'SELECT status::text, count(*)::int AS n FROM orders WHERE created_at >= $from AND created_at < $to GROUP BY 1',
      { from, to },
    );
    expect(byStatus.length).toBeGreaterThanOrEqual(3);
    expect(overview.ordersByStatus).toEqual(Object.fromEntries(byStatus.map((row) => [row.status, row.n])));
    const series = (await request(ctx.app).get('/api/admin/stats/sales').query({ from: from.toISOString(), to: to.toISOString(), interval: 'day' }).set('Authorization', adminBearer).expect(200))
      .body.data.series as Array<{ period: string; refunds: string; grossSales: string }>;
    for (const day of live) {
      const bucket = series.find((entry) => entry.period.slice(0, 10) === day.day);
      expect({ refunds: bucket?.refunds, grossSales: bucket?.grossSales }).toEqual({ refunds: day.refunds, grossSales: day.amount_paid });
    }
  });

  it('reads a partial day at either end from its rows or as its daily row less the rows outside the period, to the cent either way', async () => {
    const customers = await Promise.all(Array.from({ length: 2 }, () => signedInUser(ctx.app)));
    const [headphones, cable, notebook] = products;
    const hour = 3_600_000;
    // Ten days ago and the day after: sales at 03:00 and 15:00, then 09:00 and 21:00 the next day; refunds at 05:00, then 18:00 the next day.
    const day = new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate()) - 10 * 24 * hour);
    const at = (hours: number) => new Date(day.getTime() + hours * hour);
    const sold = [
      await paidOrder(customers[0], [[headphones, 1], [notebook, 2]], 'ROLLUP10'),
      await paidOrder(customers[1], [[cable, 3]]),
      await paidOrder(customers[0], [[notebook, 1], [cable, 1]]),
      await paidOrder(customers[1], [[headphones, 2]]),
    ];
    await asAdmin('post', `/api/admin/orders/${sold[0].id}/refund`, { amount: '7.77' }).expect(200);
    await asAdmin('post', `/api/admin/orders/${sold[3].id}/refund`, { amount: '12.34' }).expect(200);
    await ctx.jobsIdle();
    for (const [index, hours] of [3, 15, 33, 45].entries()) {
      await rows('UPDATE orders SET paid_at = $paidAt WHERE id = $id', { id: sold[index].id, paidAt: at(hours) });
    }
    for (const [index, hours] of [
      [0, 5],
      [3, 42],
    ]) {
      await rows(`UPDATE transactions SET created_at = $createdAt WHERE order_id = $id AND type = 'refund'`, { id: sold[index].id, createdAt: at(hours) });
    }
    await ledgerService.rebuildSalesDays();

    /** The period's figures from the orders and refund transactions themselves, in cents. */
    const raw = async (from: Date, to: Date) => {
      const [figures] = await rows<Record<string, string | number>>(
        `SELECT count(*)::int AS "orderCount", coalesce(sum(o.amount_paid), 0)::text AS "grossSales", coalesce(sum(o.tax_amount), 0)::text AS tax,
                coalesce(sum((SELECT sum(s.seller_amount) FROM order_shipping s WHERE s.order_id = o.id)), 0)::text AS shipping,
                coalesce(sum(CASE WHEN o.discount_funded_by = 'platform' THEN o.discount_amount ELSE 0 END), 0)::text AS platform,
                coalesce(sum((SELECT sum(round((oi.seller_amount - oi.refunded_amount) * oi.commission_rate, 2)) FROM order_items oi WHERE oi.order_id = o.id)), 0)::text AS commission,
                (SELECT coalesce(sum(t.amount), 0) FROM transactions t
                  WHERE t.type = 'refund' AND t.status = 'succeeded' AND NOT t.surplus AND t.created_at >= $from AND t.created_at < $to)::text AS refunds
           FROM orders o
          WHERE o.paid_at IS NOT NULL AND o.payment_status IN ('paid', 'partially_refunded', 'refunded') AND o.paid_at >= $from AND o.paid_at < $to`,
        { from, to },
      );
      const byStatus = await rows<{ status: string; n: number }>('SELECT status::text, count(*)::int AS n FROM orders WHERE created_at >= $from AND created_at < $to GROUP BY 1', {
        from,
        to,
      });
      const inCents = Object.fromEntries(Object.entries(figures).map(([key, value]) => [key, key === 'orderCount' ? Number(value) : Math.round(Number(value) * 100)]));
      return { ...(inCents as Record<'orderCount' | 'grossSales' | 'tax' | 'shipping' | 'platform' | 'commission' | 'refunds', number>), ordersByStatus: Object.fromEntries(byStatus.map((row) => [row.status, row.n])) };
    };
    const cents = (value: string) => Math.round(Number(value) * 100);

    // Orders placed at hours of the day after, for the counts by status (their rows rebuilt, as an operator would after such an edit).
    for (const [index, hours] of [26, 33, 40, 45].entries()) {
      await rows('UPDATE orders SET created_at = $createdAt WHERE id = $id', { id: sold[index].id, createdAt: at(hours) });
    }
    await statsService.rebuildOrderStatusDays();

    const starts = [0, 2, 4, 10, 12.5, 16, 22].map(at);
    // Ends: the day after at midnight, before noon (its own rows) and after noon (its row less what follows), the
    // same day (no whole day), and now: a moment ago (as a dashboard's "until now" arrives) and a minute ahead.
    const ends = [at(48), at(30), at(37), at(44), at(23), new Date(Date.now() - 2_000), new Date(Date.now() + 60_000)];
    for (const from of starts) {
      for (const to of ends) {
        const overview = (await request(ctx.app).get('/api/admin/stats/overview').query({ from: from.toISOString(), to: to.toISOString() }).set('Authorization', adminBearer).expect(200)).body.data;
        const expected = await raw(from, to);
        expect({
          period: [from.toISOString(), to.toISOString()],
          orderCount: overview.orderCount,
          grossSales: cents(overview.grossSales),
          tax: cents(overview.tax),
          shipping: cents(overview.shipping),
          platform: cents(overview.discounts.platform),
          commission: cents(overview.commission),
          refunds: cents(overview.refunds),
          ordersByStatus: overview.ordersByStatus,
        }).toEqual({ period: [from.toISOString(), to.toISOString()], ...expected });
        const series = (await request(ctx.app).get('/api/admin/stats/sales').query({ from: from.toISOString(), to: to.toISOString(), interval: 'day' }).set('Authorization', adminBearer).expect(200))
          .body.data.series as Array<{ period: string; orderCount: number; grossSales: string; refunds: string; commission: string }>;
        const first = series[0];
        const firstDay = await raw(from, new Date(Math.min(to.getTime(), at(24).getTime())));
        expect([first.period, first.orderCount, cents(first.grossSales), cents(first.refunds), cents(first.commission)]).toEqual([
          day.toISOString(),
          firstDay.orderCount,
          firstDay.grossSales,
          firstDay.refunds,
          firstDay.commission,
        ]);
      }
    }
  });
});
