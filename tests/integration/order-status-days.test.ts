import { QueryTypes } from 'sequelize';
import request from 'supertest';
import { createMigrator } from '../../src/platform/db/migrator';
import { statsService } from '../../src/modules/finance';
import { getJobs } from '../../src/jobs';
import { generateCatalog } from '../../src/seed/catalog';
import { generateOrders } from '../../src/seed/orders';
import { createAdmin, createProduct } from '../fixtures';
import { useTestApp } from '../support/app';
import { login, signedInUser, type SignedIn } from '../support/auth';
import { signedInSeller } from '../support/catalog';
import { ADDRESS } from '../support/orders';

const DAY_MS = 86_400_000;

/**
 * The overview's orders by status come from order_status_days and the deltas not compacted yet
 * for the whole UTC days of the period, and from the orders for the partial days at its ends:
 * they equal a count of the orders themselves after checkouts, payments, shipments, deliveries,
 * cancellations and refunds, orders re-dated by hand, before and after a compaction, with
 * compactions racing status moves and checkouts, on the history the generator writes in SQL, after
 * `stats:rebuild` and after migration 0018's backfill.
 */
describe('orders by status per day', () => {
  const ctx = useTestApp();
  let adminBearer: string;
  let products: string[];

  async function rows<T extends object>(sql: string, bind: Record<string, unknown> = {}): Promise<T[]> {
    return ctx.db.sequelize.query<T>(sql, { bind, type: QueryTypes.SELECT });
  }

  type Count = { day: string; status: string; n: number };

  /** The orders per UTC day of their creation and status now, counted from the orders. */
  const raw = () =>
    rows<Count>(`SELECT (created_at AT TIME ZONE 'UTC')::date::text AS day, status::text, count(*)::int AS n FROM orders GROUP BY 1, 2 ORDER BY 1, 2`);

  /** The same from the compacted days and the deltas not compacted yet. */
  const kept = () =>
    rows<Count>(
      `SELECT day::text, status::text, sum(n)::int AS n
         FROM (SELECT day, status, orders AS n FROM order_status_days UNION ALL SELECT day, status, delta FROM order_status_deltas) k
        GROUP BY 1, 2 HAVING sum(n) <> 0 ORDER BY 1, 2`,
    );

  const compacted = () => rows<Count>('SELECT day::text, status::text, orders AS n FROM order_status_days ORDER BY 1, 2');
  const deltas = async () => (await rows<{ n: number }>('SELECT count(*)::int AS n FROM order_status_deltas'))[0].n;

  const asAdmin = (method: 'post' | 'patch', path: string, body: object = {}) => request(ctx.app)[method](path).set('Authorization', adminBearer).send(body);

  const checkout = (customer: SignedIn) => request(ctx.app).post('/api/orders').set('Authorization', customer.bearer).send({ shippingAddress: ADDRESS }).expect(201);

  async function placeOrder(customer: SignedIn, productId: string, quantity = 1): Promise<string> {
    await request(ctx.app).post('/api/cart/items').set('Authorization', customer.bearer).send({ productId, quantity }).expect(201);
    return (await checkout(customer)).body.data.id;
  }

  const pay = (orderId: string) => asAdmin('post', `/api/admin/orders/${orderId}/mark-paid`).expect(200);
  const move = (orderId: string, status: string) => asAdmin('patch', `/api/admin/orders/${orderId}/status`, { status }).expect(200);
  const refund = (orderId: string) => asAdmin('post', `/api/admin/orders/${orderId}/refund`, {}).expect(200);
  const cancel = (customer: SignedIn, orderId: string) =>
    request(ctx.app).post(`/api/orders/${orderId}/cancel`).set('Authorization', customer.bearer).send({ reason: 'Changed my mind' }).expect(200);

  /** Through the repeating job's handler, as the workers run it. */
  async function compactByJob(): Promise<void> {
    await getJobs().enqueue('stats.compact-order-status', {});
    await ctx.jobsIdle();
  }

  /** Periods over whole days, with partial days at both ends, inside one day, and the default 30 days up to now. */
  function periods(): Array<{ from: Date; to: Date }> {
    const now = Date.now();
    const midnight = Math.floor(now / DAY_MS) * DAY_MS;
    return [
      { from: new Date(midnight - 5 * DAY_MS), to: new Date(midnight + DAY_MS) },
      { from: new Date(midnight - 3 * DAY_MS + 3_600_000), to: new Date(now + 1000) },
      { from: new Date(midnight - 2 * DAY_MS - 7_200_000), to: new Date(midnight - DAY_MS + 60_000) },
      { from: new Date(midnight), to: new Date(now + 1000) },
      { from: new Date(now - 30 * DAY_MS), to: new Date(now + 1000) },
      { from: new Date(now - 365 * DAY_MS), to: new Date(now + 1000) },
    ];
  }

  /** For every period, the overview's ordersByStatus equals the orders of the period counted by status. */
  async function expectOverviewCountsOrders(): Promise<void> {
    for (const { from, to } of periods()) {
      const overview = (await request(ctx.app).get('/api/admin/stats/overview').query({ from: from.toISOString(), to: to.toISOString() }).set('Authorization', adminBearer).expect(200))
        .body.data;
      const counted = await rows<{ status: string; n: number }>(
        'SELECT status::text, count(*)::int AS n FROM orders WHERE created_at >= $from AND created_at < $to GROUP BY 1',
        { from, to },
      );
      expect({ from, to, byStatus: overview.ordersByStatus }).toEqual({ from, to, byStatus: Object.fromEntries(counted.map((row) => [row.status, row.n])) });
    }
  }

  /** Moves orders' creation back by whole days and hours (an operator's edit), which the triggers follow. */
  async function redate(ids: string[], ago: string): Promise<void> {
    await rows(`UPDATE orders SET created_at = created_at - $ago::interval WHERE id = ANY($ids::uuid[])`, { ids, ago });
  }

  beforeAll(async () => {
    const admin = await createAdmin();
    adminBearer = `Bearer ${(await login(ctx.app, admin.email)).accessToken}`;
    const seller = await signedInSeller(ctx.app);
    products = [
      (await createProduct({ sellerId: seller.user.id, price: '25.00', stockQuantity: 1000 })).id,
      (await createProduct({ sellerId: seller.user.id, price: '7.50', stockQuantity: 1000 })).id,
    ];
  });

  it('counts what the orders count, from the deltas alone, then from the compacted days, then from both', async () => {
    const customers = await Promise.all(Array.from({ length: 3 }, () => signedInUser(ctx.app)));
    const placed: string[] = [];
    for (let i = 0; i < 9; i += 1) placed.push(await placeOrder(customers[i % 3], products[i % 2], 1 + (i % 3)));
    for (const id of placed.slice(0, 7)) await pay(id);
    for (const id of placed.slice(0, 3)) await move(id, 'shipped');
    for (const id of placed.slice(0, 2)) await move(id, 'delivered');
    await refund(placed[0]);
    await cancel(customers[7 % 3], placed[7]);
    await cancel(customers[6 % 3], placed[6]);
    // Days of history: some orders placed one, two, three and forty days ago, at odd hours.
    await redate([placed[0], placed[3]], '1 day 2 hours');
    await redate([placed[1], placed[7]], '2 days');
    await redate([placed[2]], '3 days 5 hours');
    await redate([placed[4]], '40 days');

    const byDay = await raw();
    expect(new Set(byDay.map((row) => row.day)).size).toBeGreaterThanOrEqual(4);
    expect(new Set(byDay.map((row) => row.status))).toEqual(new Set(['pending', 'confirmed', 'shipped', 'delivered', 'cancelled', 'refunded']));
    expect(await kept()).toEqual(byDay);
    await expectOverviewCountsOrders();

    await compactByJob();
    expect(await deltas()).toBe(0);
    expect(await compacted()).toEqual(byDay);
    await expectOverviewCountsOrders();

    // More moves on top of the compacted days: both tables count.
    await move(placed[2], 'delivered');
    await refund(placed[2]);
    await pay(placed[8]);
    await redate([placed[8]], '1 day');
    await placeOrder(customers[0], products[0]);
    expect(await deltas()).toBeGreaterThan(0);
    expect(await kept()).toEqual(await raw());
    await expectOverviewCountsOrders();

    // Rows that fall to 0 are dropped: none is kept for a status no order of that day has.
    await statsService.compactOrderStatusDays();
    expect(await compacted()).toEqual(await raw());
    expect((await compacted()).every((row) => row.n > 0)).toBe(true);
  });

  it('counts each move once with compactions racing checkouts and status moves', async () => {
    const customers = await Promise.all(Array.from({ length: 4 }, () => signedInUser(ctx.app)));
    const confirmed: string[] = [];
    for (let i = 0; i < 8; i += 1) {
      const id = await placeOrder(customers[i % 4], products[i % 2]);
      await pay(id);
      confirmed.push(id);
    }
    const pending: string[] = [];
    for (let i = 0; i < 4; i += 1) pending.push(await placeOrder(customers[i], products[(i + 1) % 2]));
    await redate(confirmed.slice(0, 4), '1 day');
    await statsService.compactOrderStatusDays();

    for (let round = 0; round < 2; round += 1) {
      const compactions = Array.from({ length: 4 }, () => statsService.compactOrderStatusDays());
      const moves =
        round === 0
          ? [
              ...confirmed.map((id) => move(id, 'shipped')),
              ...pending.slice(0, 2).map((id) => pay(id)),
              cancel(customers[2], pending[2]),
              ...customers.slice(0, 2).map((customer) => request(ctx.app).post('/api/cart/items').set('Authorization', customer.bearer).send({ productId: products[0], quantity: 1 })),
            ]
          : [
              ...confirmed.slice(0, 5).map((id) => move(id, 'delivered')),
              ...confirmed.slice(5).map((id) => refund(id)),
              ...pending.slice(0, 2).map((id) => move(id, 'shipped')),
              ...customers.slice(0, 2).map((customer) => checkout(customer)),
            ];
      await Promise.all([...compactions, ...moves, compactByJob()]);
      expect(await kept()).toEqual(await raw());
      await expectOverviewCountsOrders();
    }

    await statsService.compactOrderStatusDays();
    expect(await deltas()).toBe(0);
    expect(await compacted()).toEqual(await raw());
    await expectOverviewCountsOrders();
  });

  it('follows the order history the generator writes in SQL', async () => {
    await generateCatalog(ctx.db.sequelize, { products: 30, sellers: 3, bcryptRounds: 4, seed: 5 });
    const { orders } = await generateOrders(ctx.db.sequelize, { orders: 1500, days: 60, bcryptRounds: 4 });
    expect(orders).toBeGreaterThan(1000);
    // The generator folds its deltas into the days itself, so a seeded database reads its counts at once.
    expect(await deltas()).toBe(0);
    expect(await kept()).toEqual(await raw());
    await expectOverviewCountsOrders();
    await compactByJob();
    expect(await deltas()).toBe(0);
    expect(await compacted()).toEqual(await raw());
    await expectOverviewCountsOrders();
  });

  it('is rebuilt by stats:rebuild and backfilled by migration 0018 to the orders’ counts', async () => {
    const byDay = await raw();
    expect(byDay.length).toBeGreaterThan(0);
    // Hand edits: a count off by some, a delta that belongs nowhere.
    await rows(`UPDATE order_status_days SET orders = orders + 5 WHERE status = 'confirmed'`);
    await rows(`INSERT INTO order_status_deltas (day, status, delta) VALUES ('2001-01-01', 'pending', 3)`);
    expect(await kept()).not.toEqual(byDay);

    await statsService.rebuildOrderStatusDays();
    expect(await deltas()).toBe(0);
    expect(await compacted()).toEqual(byDay);

    const migrator = createMigrator(ctx.db.sequelize);
    await migrator.down({ to: '0018-order-status-days' });
    const [{ tables }] = await rows<{ tables: string[] | null }>(
      `SELECT array_agg(tablename::text) AS tables FROM pg_tables WHERE schemaname = 'public' AND tablename LIKE 'order_status_d%'`,
    );
    expect(tables).toBeNull();
    // Orders placed and moved while the migration is not applied: the backfill counts them. The
    // cart is filled in SQL: the add route reads the cart's line count, which migration 0019
    // (reverted with 0018 here, as it comes after it) keeps.
    const customer = await signedInUser(ctx.app);
    await ctx.db.sequelize.query(
      `WITH cart AS (INSERT INTO carts (user_id) VALUES ($userId) RETURNING id)
       INSERT INTO cart_items (cart_id, product_id, variant_id, quantity)
       SELECT cart.id, v.product_id, v.id, 1 FROM cart, product_variants v WHERE v.product_id = $productId AND v.status = 'active' LIMIT 1`,
      { bind: { userId: customer.user.id, productId: products[1] } },
    );
    await pay((await checkout(customer)).body.data.id);
    await migrator.up();
    expect(await deltas()).toBe(0);
    expect(await compacted()).toEqual(await raw());
    await expectOverviewCountsOrders();

    // The triggers are back with the tables.
    const [{ id }] = await rows<{ id: string }>(`SELECT id FROM orders WHERE status = 'confirmed' LIMIT 1`);
    await move(id, 'shipped');
    expect(await kept()).toEqual(await raw());

    // A TRUNCATE of the orders leaves nothing to count.
    await rows('TRUNCATE orders CASCADE');
    expect(await kept()).toEqual([]);
    expect(await deltas()).toBe(0);
  });
});
