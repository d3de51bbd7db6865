import { faker } from '@faker-js/faker';
import { QueryTypes } from 'sequelize';
import request from 'supertest';
import { Cart, CartItem } from '../../src/models';
import { ledgerService, payoutService } from '../../src/modules/finance';
import { lineCommission } from '../../src/modules/finance/money-rules';
import type { Caller } from '../../src/modules/accounts';
import { cancellationService, checkoutService } from '../../src/modules/order';
import { intentService, refundService } from '../../src/modules/payment';
import { statsService } from '../../src/modules/finance/stats.service';
import { fromMinor, toMinor } from '../../src/platform/utils/money';
import { createAdmin, createProduct, createUser, defaultVariantId } from '../fixtures';
import { useTestApp } from '../support/app';
import { login, signedInUser, type SignedIn } from '../support/auth';
import { signedInSeller, type SignedInSeller } from '../support/catalog';
import { ADDRESS } from '../support/orders';
import { outboxFor } from '../support/outbox';

/**
 * The marketplace's money, end to end: commission per line, the seller ledger and its balance,
 * payouts (never twice, netting refunds that come after), and the seller's and admin's figures
 * agreeing to the cent, also over a month of random orders.
 */
describe('marketplace money', () => {
  const ctx = useTestApp();
  let admin: Caller;
  let adminBearer: string;

  beforeAll(async () => {
    const user = await createAdmin();
    admin = { id: user.id, role: 'admin' };
    adminBearer = `Bearer ${(await login(ctx.app, user.email)).accessToken}`;
  });

  async function rows<T extends object>(sql: string, bind: Record<string, unknown> = {}): Promise<T[]> {
    return ctx.db.sequelize.query<T>(sql, { bind, type: QueryTypes.SELECT });
  }

  /** A customer's paid order of these lines (through the services: checkout, then a manual payment). */
  async function paidOrder(customerId: string, lines: Array<{ productId: string; quantity: number }>): Promise<string> {
    const cart = (await Cart.findOne({ where: { userId: customerId } })) ?? (await Cart.create({ userId: customerId, tokenHash: null, expiresAt: null }));
    for (const line of lines) await CartItem.create({ cartId: cart.id, ...line, variantId: await defaultVariantId(line.productId) });
    const { order } = await checkoutService.checkout({ id: customerId, role: 'customer' }, { shippingAddress: ADDRESS });
    await intentService.markPaidManually(order.id, admin);
    return order.id;
  }

  async function deliver(orderId: string, daysAgo: number): Promise<void> {
    await cancellationService.adminSetStatus(orderId, admin, { status: 'shipped' });
    await cancellationService.adminSetStatus(orderId, admin, { status: 'delivered' });
    await ctx.db.sequelize.query(`UPDATE order_items SET delivered_at = now() - make_interval(days => $days) WHERE order_id = $orderId`, { bind: { days: daysAgo, orderId } });
  }

  /** Moves today's payouts to yesterday, so that a run today may make new ones. */
  async function yesterdaysPayouts(): Promise<void> {
    await ctx.db.sequelize.query(`UPDATE seller_payouts SET period_start = period_start - interval '1 day', period_end = period_end - interval '1 day'`);
  }

  function ledgerOf(seller: SignedIn, query: Record<string, unknown> = {}) {
    return request(ctx.app).get('/api/seller/ledger').query({ limit: 100, ...query }).set('Authorization', seller.bearer);
  }

  it('applies one commission rule in code and in SQL', async () => {
    const cases = Array.from({ length: 300 }, () => ({
      total: faker.number.int({ min: 1, max: 10_000_000 }),
      rate: faker.number.int({ min: 0, max: 10_000 }) / 10_000,
    })).map((entry) => ({ ...entry, refunded: faker.number.int({ min: 0, max: entry.total }) }));
    cases.push({ total: 1005, refunded: 0, rate: 0.1 }, { total: 15, refunded: 0, rate: 0.5 }, { total: 25, refunded: 0, rate: 0.1 });
    const [result] = await rows<{ commissions: string[] }>(
      `SELECT array_agg(round((t - r) * rate, 2)::text ORDER BY n) AS commissions
         FROM unnest($totals::numeric[], $refunded::numeric[], $rates::numeric[]) WITH ORDINALITY AS c(t, r, rate, n)`,
      { totals: cases.map((c) => fromMinor(c.total)), refunded: cases.map((c) => fromMinor(c.refunded)), rates: cases.map((c) => c.rate.toFixed(4)) },
    );
    expect(result.commissions.map((value) => toMinor(value))).toEqual(cases.map((c) => lineCommission(c.total, c.refunded, c.rate)));
  });

  it('credits sales less commission, pays out payable lines once, and nets a refund that came after the payout', async () => {
    const seller = await signedInSeller(ctx.app);
    await seller.profile.update({ commissionRate: '0.1500' });
    const customer = await createUser();
    const mug = await createProduct({ sellerId: seller.user.id, price: '20.00', stockQuantity: 100 });

    const first = await paidOrder(customer.id, [{ productId: mug.id, quantity: 3 }]);
    let ledger = (await ledgerOf(seller)).body.data;
    expect(ledger.entries.map((entry: { type: string; amount: string }) => `${entry.type} ${entry.amount}`).sort()).toEqual(['commission -9.00', 'sale 60.00']);
    expect(ledger.balance).toEqual({ pending: '51.00', available: '0.00', paidOut: '0.00' });

    // Not payable before delivery plus the hold: nothing to pay.
    expect((await request(ctx.app).post('/api/admin/payouts/run').set('Authorization', adminBearer).send({})).body.data.payouts).toEqual([]);
    await deliver(first, 8);
    ledger = (await ledgerOf(seller)).body.data;
    expect(ledger.balance).toEqual({ pending: '0.00', available: '51.00', paidOut: '0.00' });

    const [run1, run2] = await Promise.all([payoutService.runPayouts(), payoutService.runPayouts()]);
    const payouts = [...run1, ...run2].filter((payout) => payout.sellerId === seller.user.id);
    expect(payouts).toHaveLength(1);
    expect(payouts[0]).toMatchObject({ grossAmount: '60.00', commissionAmount: '9.00', refundAmount: '0.00', netAmount: '51.00', itemCount: 1, status: 'pending' });
    expect((await request(ctx.app).post('/api/admin/payouts/run').set('Authorization', adminBearer).send({})).body.data.payouts).toEqual([]);
    ledger = (await ledgerOf(seller)).body.data;
    expect(ledger.balance).toEqual({ pending: '0.00', available: '0.00', paidOut: '0.00' });

    const paid = await request(ctx.app).post(`/api/admin/payouts/${payouts[0].id}/mark-paid`).set('Authorization', adminBearer).send({ reference: 'BANK-42' });
    expect(paid.body.data).toMatchObject({ status: 'paid', reference: 'BANK-42' });
    const again = await request(ctx.app).post(`/api/admin/payouts/${payouts[0].id}/mark-paid`).set('Authorization', adminBearer).send({});
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('PAYOUT_ALREADY_PAID');
    await ctx.jobsIdle();
    expect(outboxFor(seller.user.email).filter((mail) => /^Payout sent: \$51\.00$/.test(mail.subject))).toHaveLength(1);

    // A refund after the payout: 20.00 back to the customer, 3.00 of commission back to the seller.
    await refundService.refund(first, admin, { amount: '20.00', reason: 'One mug broke' });
    ledger = (await ledgerOf(seller)).body.data;
    expect(ledger.balance).toEqual({ pending: '0.00', available: '-17.00', paidOut: '51.00' });

    // The next payout nets it: a new sale of 40.00 (commission 6.00) pays 34.00 − 17.00.
    const second = await paidOrder(customer.id, [{ productId: mug.id, quantity: 2 }]);
    await deliver(second, 8);
    await yesterdaysPayouts();
    const [netted] = (await payoutService.runPayouts()).filter((payout) => payout.sellerId === seller.user.id);
    expect(netted).toMatchObject({ grossAmount: '40.00', commissionAmount: '3.00', refundAmount: '20.00', netAmount: '17.00' });

    ledger = (await ledgerOf(seller)).body.data;
    const sum = ledger.entries.reduce((total: number, entry: { amount: string }) => total + toMinor(entry.amount), 0);
    expect(fromMinor(sum)).toBe(fromMinor(toMinor(ledger.balance.available) + toMinor(ledger.balance.pending)));
    const stats = (await request(ctx.app).get('/api/seller/stats').set('Authorization', seller.bearer)).body.data;
    expect(stats).toMatchObject({ salesCount: 2, unitsSold: 5, grossRevenue: '100.00', refunds: '20.00', commission: '12.00', netEarnings: '68.00' });
    expect(stats.balance).toEqual({ pending: '0.00', available: '0.00', paidOut: '51.00' });
    const sellerPayouts = (await request(ctx.app).get('/api/seller/payouts').set('Authorization', seller.bearer)).body.data.payouts;
    expect(sellerPayouts.map((payout: { netAmount: string }) => payout.netAmount)).toEqual(['17.00', '51.00']);
  });

  it('keeps a negative balance for later sales instead of paying a negative payout', async () => {
    const seller = await signedInSeller(ctx.app);
    const customer = await createUser();
    const product = await createProduct({ sellerId: seller.user.id, price: '10.00', stockQuantity: 10 });
    const order = await paidOrder(customer.id, [{ productId: product.id, quantity: 1 }]);
    await deliver(order, 8);
    await payoutService.runPayouts();
    await refundService.refund(order, admin, {});
    await yesterdaysPayouts();
    expect((await payoutService.runPayouts()).filter((payout) => payout.sellerId === seller.user.id)).toEqual([]);
    expect((await ledgerOf(seller)).body.data.balance.available).toBe('-9.00');
  });

  it('shows sellers only their own ledger, payouts and stats, and refuses bad periods', async () => {
    const customer = await signedInUser(ctx.app);
    for (const path of ['/api/seller/ledger', '/api/seller/payouts', '/api/seller/stats']) {
      expect((await request(ctx.app).get(path).set('Authorization', customer.bearer)).status).toBe(403);
    }
    for (const path of ['/api/admin/payouts', '/api/admin/stats/overview', '/api/admin/stats/sales', '/api/admin/stats/top-products', '/api/admin/stats/top-sellers']) {
      expect((await request(ctx.app).get(path).set('Authorization', customer.bearer)).status).toBe(403);
    }
    expect((await request(ctx.app).post('/api/admin/payouts/run').set('Authorization', customer.bearer).send({})).status).toBe(403);
    const stranger = await signedInSeller(ctx.app);
    expect((await ledgerOf(stranger)).body.data.entries).toEqual([]);
    expect((await request(ctx.app).get('/api/seller/payouts').set('Authorization', stranger.bearer)).body.data.payouts).toEqual([]);
    const bad = [
      { from: '2026-02-01T00:00:00Z', to: '2026-01-01T00:00:00Z' },
      { from: '2019-01-01T00:00:00Z', to: '2026-01-01T00:00:00Z' },
      { from: 'yesterday' },
      { interval: 'year' },
    ];
    for (const query of bad) {
      const answer = await request(ctx.app).get('/api/admin/stats/sales').query(query).set('Authorization', adminBearer);
      expect(answer.status).toBe(400);
      expect(answer.body.error.code).toBe('VALIDATION_ERROR');
    }
    expect((await request(ctx.app).get('/api/seller/stats').query(bad[0]).set('Authorization', stranger.bearer)).status).toBe(400);
    expect((await request(ctx.app).post('/api/admin/payouts/00000000-0000-4000-8000-000000000000/mark-paid').set('Authorization', adminBearer).send({})).status).toBe(404);
  });

  it('agrees to the cent over a month of random orders, refunds, cancellations and payouts', async () => {
    const from = new Date(Date.UTC(2026, 9, 1));
    const to = new Date(Date.UTC(2026, 10, 1));
    const sellers: SignedInSeller[] = [];
    for (let i = 0; i < 4; i += 1) {
      const seller = await signedInSeller(ctx.app);
      await seller.profile.update({ commissionRate: ['0.1000', '0.1250', '0.0750', '0.2000'][i] });
      sellers.push(seller);
    }
    const products = [];
    for (const seller of sellers) {
      for (let i = 0; i < 3; i += 1) products.push(await createProduct({ sellerId: seller.user.id, price: fromMinor(faker.number.int({ min: 101, max: 9_999 })), stockQuantity: 1000 }));
    }
    const customers = await Promise.all(Array.from({ length: 5 }, () => createUser()));
    const orderIds: string[] = [];
    for (let i = 0; i < 40; i += 1) {
      const picked = faker.helpers.arrayElements(products, { min: 1, max: 3 });
      const customer = faker.helpers.arrayElement(customers);
      const id = await paidOrder(customer.id, picked.map((product) => ({ productId: product.id, quantity: faker.number.int({ min: 1, max: 4 }) })));
      orderIds.push(id);
      const fate = faker.number.int({ min: 0, max: 9 });
      if (fate === 0) await cancellationService.cancel(id, admin, 'Out of stock at the warehouse');
      else if (fate <= 6) await deliver(id, faker.number.int({ min: 0, max: 20 }));
      if (fate === 2) await refundService.refund(id, admin, { amount: '1.01' });
      if (fate === 3) await refundService.refund(id, admin, {});
    }
    await payoutService.runPayouts();
    // Refunds after the payout, then another day's payout.
    for (const id of faker.helpers.arrayElements(orderIds, 6)) {
      const [order] = await rows<{ left: string }>('SELECT (amount_paid - amount_refunded)::text AS left FROM orders WHERE id = $id', { id });
      if (toMinor(order.left) > 200) await refundService.refund(id, admin, { amount: '2.00' });
    }
    await yesterdaysPayouts();
    await payoutService.runPayouts();
    // The per-day sales kept with each payment and refund equal those built from the orders.
    const everything = { from: new Date(Date.now() - 86_400_000), to: new Date(Date.now() + 86_400_000) };
    const kept = await statsService.overview(everything);
    await ledgerService.rebuildSalesDays();
    expect(await statsService.overview(everything)).toEqual(kept);
    const sellerRows = await statsService.topSellers(everything, 100);
    expect(sellerRows.reduce((total, row) => total + toMinor(row.commission), 0)).toBe(toMinor(kept.commission));

    // Spread payments and refunds over the month.
    for (const id of orderIds) {
      await ctx.db.sequelize.query(`UPDATE orders SET paid_at = $at, created_at = $at WHERE id = $id`, { bind: { id, at: faker.date.between({ from, to: new Date(to.getTime() - 1) }) } });
    }
    await ctx.db.sequelize.query(
      `UPDATE transactions SET created_at = $from::timestamptz + (random() * interval '29 days') WHERE type = 'refund' AND order_id = ANY($ids::uuid[])`,
      { bind: { from, ids: orderIds } },
    );
    // Payments moved by hand: the per-day sales are built again from the orders, as an operator would.
    await ledgerService.rebuildSalesDays();

    for (const seller of sellers) {
      const ledger = (await ledgerOf(seller, { limit: 100 })).body.data;
      expect(ledger.pagination.total).toBeLessThanOrEqual(100);
      const sum = ledger.entries.reduce((total: number, entry: { amount: string }) => total + toMinor(entry.amount), 0);
      expect(sum).toBe(toMinor(ledger.balance.available) + toMinor(ledger.balance.pending));
    }
    // Payouts + available + pending = every seller's net over all time.
    const [net] = await rows<{ net: string }>(
      `SELECT coalesce(sum(oi.line_total - oi.refunded_amount - round((oi.line_total - oi.refunded_amount) * oi.commission_rate, 2)), 0)::text AS net
         FROM order_items oi JOIN orders o ON o.id = oi.order_id WHERE oi.seller_id = ANY($ids::uuid[]) AND o.paid_at IS NOT NULL`,
      { ids: sellers.map((seller) => seller.user.id) },
    );
    let held = 0;
    for (const seller of sellers) {
      const balance = await ledgerService.balance(seller.user.id);
      const [payouts] = await rows<{ total: string }>(`SELECT coalesce(sum(net_amount), 0)::text AS total FROM seller_payouts WHERE seller_id = $id`, { id: seller.user.id });
      held += toMinor(balance.available) + toMinor(balance.pending) + toMinor(payouts.total);
    }
    expect(fromMinor(held)).toBe(fromMinor(toMinor(net.net)));

    const period = { from: from.toISOString(), to: to.toISOString() };
    const get = async (path: string, query: Record<string, unknown> = {}) =>
      (await request(ctx.app).get(path).query({ ...period, ...query }).set('Authorization', adminBearer)).body.data;
    const overview = await get('/api/admin/stats/overview');
    const topSellers = (await get('/api/admin/stats/top-sellers', { limit: 100 })).sellers;
    const sum = (values: string[]) => values.reduce((total, value) => total + toMinor(value), 0);
    expect(overview.orderCount).toBe(40);
    expect(sum(topSellers.map((row: { commission: string }) => row.commission))).toBe(toMinor(overview.commission));
    // What sellers were credited, plus the platform's tax, less the discounts the platform bore, is what customers paid.
    expect(
      sum(topSellers.map((row: { grossRevenue: string }) => row.grossRevenue)) +
        sum(topSellers.map((row: { shipping: string }) => row.shipping)) +
        toMinor(overview.tax) -
        toMinor(overview.discounts.platform),
    ).toBe(toMinor(overview.grossSales));
    expect(sum(topSellers.map((row: { shipping: string }) => row.shipping))).toBe(toMinor(overview.shipping));
    expect(toMinor(overview.netSales)).toBe(toMinor(overview.grossSales) - toMinor(overview.refunds));

    for (const interval of ['day', 'week', 'month']) {
      const series = (await get('/api/admin/stats/sales', { interval })).series as Array<Record<string, string | number>>;
      if (interval === 'day') expect(series).toHaveLength(31);
      if (interval === 'month') expect(series).toHaveLength(1);
      // Every bucket as the money rules show amounts (two decimals, "0.00" when empty) and its start in UTC.
      for (const bucket of series) {
        expect(bucket).toEqual({
          period: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T00:00:00\.000Z$/),
          orderCount: expect.any(Number),
          grossSales: expect.stringMatching(/^-?\d+\.\d{2}$/),
          refunds: expect.stringMatching(/^-?\d+\.\d{2}$/),
          netSales: expect.stringMatching(/^-?\d+\.\d{2}$/),
          commission: expect.stringMatching(/^-?\d+\.\d{2}$/),
        });
        expect(toMinor(bucket.netSales as string)).toBe(toMinor(bucket.grossSales as string) - toMinor(bucket.refunds as string));
      }
      if (interval === 'day') expect(series.some((bucket) => bucket.grossSales === '0.00' && bucket.orderCount === 0)).toBe(true);
      for (const field of ['grossSales', 'refunds', 'netSales', 'commission']) {
        expect(fromMinor(sum(series.map((bucket) => String(bucket[field]))))).toBe(overview[field]);
      }
      expect(series.reduce((total, bucket) => total + Number(bucket.orderCount), 0)).toBe(overview.orderCount);
    }

    for (const seller of sellers) {
      const stats = (await request(ctx.app).get('/api/seller/stats').query(period).set('Authorization', seller.bearer)).body.data;
      const row = topSellers.find((entry: { sellerId: string }) => entry.sellerId === seller.user.id);
      expect({ unitsSold: stats.unitsSold, grossRevenue: stats.grossRevenue, commission: stats.commission, netEarnings: stats.netEarnings }).toEqual({
        unitsSold: row.unitsSold,
        grossRevenue: row.grossRevenue,
        commission: row.commission,
        netEarnings: row.netEarnings,
      });
    }
    const topProducts = (await get('/api/admin/stats/top-products', { limit: 100 })).products;
    expect(sum(topProducts.map((row: { grossRevenue: string }) => row.grossRevenue))).toBe(sum(topSellers.map((row: { grossRevenue: string }) => row.grossRevenue)));
  }, 120_000);
});
