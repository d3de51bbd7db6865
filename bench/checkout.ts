import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Pool } from 'pg';
import { toPositional } from '../src/platform/db/query';
import { REFRESH_PRODUCTS } from '../src/modules/catalog/variant-store';
import { promotionUsesOf } from '../src/modules/order/promotion.service';
import { hashPassword } from '../src/platform/utils/password';

/**
 * The checkout rows of `npm run bench`: customers in a closed loop (each puts variants in its
 * cart, puts the bench's promotion code on it, and checks out, then starts again), against the
 * API and against the bare server, with an audit afterwards. Of the stock: no variant or product
 * below zero, for every variant the stock taken equals the quantity ordered, and every product's
 * stock is the sum of its active variants' (the take moves both in one statement). Of the
 * pricing: every order has the discount, the tax and the parcels the row's carts call for, and
 * the code's use count moved by the orders that used it.
 */

/** A destination with a state rate that also taxes shipping, and the sellers' rates cover. */
export const SHIPPING_BODY = {
  shippingAddress: { firstName: 'A', lastName: 'B', address1: '1 Market St', city: 'San Francisco', state: 'CA', postalCode: '94103', country: 'US' },
};

/** Paths of the requests of one iteration. */
export interface Endpoints {
  addItem: string;
  applyPromo: string;
  checkout: string;
  clearCart: string;
}

export const API_ENDPOINTS: Endpoints = { addItem: '/api/cart/items', applyPromo: '/api/cart/promo', checkout: '/api/orders', clearCart: '/api/cart' };
export const BARE_ENDPOINTS: Endpoints = { addItem: '/cart/items', applyPromo: '/cart/promo', checkout: '/orders', clearCart: '/cart' };

/** The platform code of the checkout rows' carts: 10 % off, no usage limit. */
export const PROMO_CODE = 'BENCH10';

/** Stock given to every variant the checkout rows sell: no run comes near selling out. */
export const PLENTY = 1_000_000;

export interface Customer {
  id: string;
  email: string;
}

export interface LoopOptions {
  baseUrl: string;
  endpoints: Endpoints;
  /** One Bearer token per customer; one customer per concurrent loop. */
  tokens: string[];
  /** The variants of the next iteration's cart (added by `variantId`), one unit each. */
  pickVariants: () => string[];
  /** Put on the cart after its lines (checkout takes it off again), when given. */
  promoCode?: string;
  warmupSeconds: number;
  seconds: number;
  /** Resident memory of the server, sampled during the run. */
  rssMb: () => number;
}

export interface LoopResult {
  /** Checkouts answered 201 within the measured seconds, per second. */
  ordersPerSecond: number;
  /** Latency of the checkout request (POST of the order) only, measured seconds. */
  p50: number;
  p99: number;
  /** Latency of the add-to-cart requests, measured seconds (for the log). */
  addP50: number;
  addP99: number;
  /** Latency of the requests that put the code on the cart, measured seconds (for the log). */
  promoP50: number;
  promoP99: number;
  /** Failed requests (any of the iteration's, network errors included) during the whole run, warm-up included. */
  errors: number;
  /** Checkouts answered 201 during the whole run (warm-up and the last iterations included). */
  placed: number;
  rssMb: number;
  /** The first few failures, for the log. */
  errorSamples: string[];
}

export interface Audit {
  /** Orders of the run's customers in the database. */
  orders: number;
  unitsOrdered: number;
  unitsTaken: number;
  /** Variants and products below zero, anywhere in the catalog. */
  negative: number;
  /** Variants whose stock taken differs from the quantity ordered (and ordered variants outside the audited set). */
  mismatched: number;
  /** Products, anywhere in the catalog, whose stock is not the sum of their active variants' stock. */
  totalsOff: number;
  /** Carts of the run's customers that still hold lines. */
  cartsLeft: number;
  pricing: PricingAudit;
  ok: boolean;
}

/** What every order of a row must show of its pricing. */
export interface PricingExpectation {
  /** The promotion of PROMO_CODE. */
  promotionId: string;
  /** Every order used it (and has a discount), or none did (and none has). */
  withCode: boolean;
  /** order_shipping rows per order: one per seller of its lines. */
  parcels: number;
}

export interface PricingAudit {
  /** Orders of the run's customers without a discount when the row's carts carry the code, or with one when they do not. */
  discountOff: number;
  /** Orders without tax (the destination's state rate taxes every line). */
  untaxed: number;
  /** Orders whose order_shipping rows are not one per seller. */
  parcelsOff: number;
  /** Orders that did not use the code when the row's carts carry it, or used a promotion when they do not. */
  promotionOff: number;
  /** How far the code's used_count moved during the run, and the run's orders that used the code. */
  usesTaken: number;
  ordersWithCode: number;
  /** The code's used_count, and every order (of any run) that used the code, after the run. */
  usedCount: number;
  allOrdersWithCode: number;
  ok: boolean;
}

interface Reply {
  status: number;
  body: string;
}

function call(agent: http.Agent, baseUrl: string, method: string, path: string, token: string | undefined, body?: unknown): Promise<Reply> {
  return new Promise((resolve) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: http.OutgoingHttpHeaders = { Accept: 'application/json' };
    if (token) headers.Authorization = `Bearer ${token}`;
    if (payload !== undefined) {
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = Buffer.byteLength(payload);
    }
    const req = http.request(`${baseUrl}${path}`, { method, agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', (error) => resolve({ status: 0, body: error.message }));
    });
    req.on('error', (error) => resolve({ status: 0, body: error.message }));
    req.end(payload);
  });
}

/** Nearest-rank percentile of sorted values, in whole milliseconds. */
function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return Math.round(sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]);
}

/**
 * Runs one closed loop per token: add each picked variant (quantity 1), put the code on the cart
 * (when there is one), check out, again, for the warm-up and then the measured seconds. A loop that is inside an iteration when time is up
 * finishes it (so every cart ends empty); after a failed request it empties its cart and starts
 * the next iteration.
 */
export async function runCheckoutLoop(options: LoopOptions): Promise<LoopResult> {
  const started = performance.now();
  const measureFrom = started + options.warmupSeconds * 1000;
  const measureTo = measureFrom + options.seconds * 1000;
  const latencies: number[] = [];
  const addLatencies: number[] = [];
  const promoLatencies: number[] = [];
  const errorSamples: string[] = [];
  let errors = 0;
  let placed = 0;
  let peakRss = options.rssMb();
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, options.rssMb());
  }, 250);

  const failed = (what: string, reply: Reply) => {
    errors += 1;
    if (errorSamples.length < 5) errorSamples.push(`${what}: ${reply.status} ${reply.body.slice(0, 300)}`);
  };

  const loop = async (token: string) => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      while (performance.now() < measureTo) {
        let ok = true;
        for (const variantId of options.pickVariants()) {
          const sentAdd = performance.now();
          const added = await call(agent, options.baseUrl, 'POST', options.endpoints.addItem, token, { variantId, quantity: 1 });
          const answeredAdd = performance.now();
          if (answeredAdd >= measureFrom && answeredAdd <= measureTo) addLatencies.push(answeredAdd - sentAdd);
          if (added.status !== 201) {
            failed('add to cart', added);
            ok = false;
            break;
          }
        }
        if (ok && options.promoCode) {
          const sentPromo = performance.now();
          const applied = await call(agent, options.baseUrl, 'POST', options.endpoints.applyPromo, token, { code: options.promoCode });
          const answeredPromo = performance.now();
          if (answeredPromo >= measureFrom && answeredPromo <= measureTo) promoLatencies.push(answeredPromo - sentPromo);
          if (applied.status !== 200) {
            failed('promo code', applied);
            ok = false;
          }
        }
        if (ok) {
          const sent = performance.now();
          const order = await call(agent, options.baseUrl, 'POST', options.endpoints.checkout, token, SHIPPING_BODY);
          const answered = performance.now();
          if (order.status === 201) {
            placed += 1;
            if (answered >= measureFrom && answered <= measureTo) latencies.push(answered - sent);
          } else {
            failed('checkout', order);
            ok = false;
          }
        }
        if (!ok) await call(agent, options.baseUrl, 'DELETE', options.endpoints.clearCart, token);
      }
    } finally {
      agent.destroy();
    }
  };

  await Promise.all(options.tokens.map((token) => loop(token)));
  clearInterval(sampler);
  peakRss = Math.max(peakRss, options.rssMb());
  latencies.sort((a, b) => a - b);
  addLatencies.sort((a, b) => a - b);
  promoLatencies.sort((a, b) => a - b);
  return {
    ordersPerSecond: Math.round(latencies.length / options.seconds),
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    addP50: percentile(addLatencies, 50),
    addP99: percentile(addLatencies, 99),
    promoP50: percentile(promoLatencies, 50),
    promoP99: percentile(promoLatencies, 99),
    errors,
    placed,
    rssMb: peakRss,
    errorSamples,
  };
}

/** Approved customer accounts with one bcrypt-hashed password (cost 4, as the bench's sellers), made in one statement. */
export async function createCustomers(pool: Pool, label: string, count: number, password: string): Promise<Customer[]> {
  const hash = await hashPassword(password, 4);
  const { rows } = await pool.query<Customer>(
    `INSERT INTO users (email, password, name, role, status, email_verified)
     SELECT 'bench-' || $1 || '-' || g || '@example.com', $2, 'Bench customer ' || g, 'customer', 'approved', true
       FROM generate_series(1, $3::int) g
     RETURNING id, email`,
    [label, hash, count],
  );
  return rows;
}

/** Signs each customer in through POST /api/auth/login and returns their access tokens. */
export async function signIn(baseUrl: string, customers: Customer[], password: string): Promise<string[]> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  try {
    return await Promise.all(
      customers.map(async (customer) => {
        const reply = await call(agent, baseUrl, 'POST', '/api/auth/login', undefined, { email: customer.email, password });
        if (reply.status !== 200) throw new Error(`login of ${customer.email} answered ${reply.status}: ${reply.body.slice(0, 300)}`);
        return (JSON.parse(reply.body) as { data: { accessToken: string } }).data.accessToken;
      }),
    );
  } finally {
    agent.destroy();
  }
}

/** The stock of each variant. */
export async function stockOf(pool: Pool, variantIds: string[]): Promise<Map<string, number>> {
  const { rows } = await pool.query<{ id: string; stock_quantity: number }>('SELECT id, stock_quantity FROM product_variants WHERE id = ANY($1::uuid[])', [
    variantIds,
  ]);
  return new Map(rows.map((row) => [row.id, row.stock_quantity]));
}

/** Live products whose stock is not the sum of their active variants' stock (what the catalog's statements keep it at). */
export async function productTotalsOff(pool: Pool): Promise<number> {
  const { rows } = await pool.query<{ off: number }>(
    `SELECT count(*)::int AS off
       FROM products p
       LEFT JOIN (SELECT product_id, sum(stock_quantity)::bigint AS stock
                    FROM product_variants
                   WHERE status = 'active' AND deleted_at IS NULL
                   GROUP BY product_id) v ON v.product_id = p.id
      WHERE p.deleted_at IS NULL AND p.stock_quantity <> coalesce(v.stock, 0)`,
  );
  return rows[0].off;
}

/** What a run's audit compares with: the variants' stock and the code's use count before it. */
export interface AuditBaseline {
  stock: Map<string, number>;
  usedCount: number;
}

/** The use count of a promotion, as the API shows it. */
export async function usedCountOf(pool: Pool, promotionId: string): Promise<number> {
  const { rows } = await pool.query<{ used_count: number }>(`SELECT ${promotionUsesOf('promotions')} AS used_count FROM promotions WHERE id = $1`, [promotionId]);
  if (!rows[0]) throw new Error(`promotion ${promotionId} is gone`);
  return rows[0].used_count;
}

/**
 * The pricing of a run's orders, in one statement: each order's discount, tax, parcels and
 * promotion against what the row's carts call for, and the code's use count against the orders
 * that used it (the run's, by how far the count moved, and every order's, by the count itself).
 */
export async function pricingAudit(pool: Pool, customers: Customer[], expected: PricingExpectation, usedCountBefore: number): Promise<PricingAudit> {
  const { rows } = await pool.query<Omit<PricingAudit, 'usesTaken' | 'ok'>>(
    `SELECT count(*) FILTER (WHERE (o.discount_amount > 0) <> $3::boolean)::int AS "discountOff",
            count(*) FILTER (WHERE o.tax_amount <= 0)::int AS untaxed,
            count(*) FILTER (WHERE s.parcels <> $4::int)::int AS "parcelsOff",
            count(*) FILTER (WHERE CASE WHEN $3::boolean THEN o.promotion_id IS DISTINCT FROM $2::uuid ELSE o.promotion_id IS NOT NULL END)::int AS "promotionOff",
            count(*) FILTER (WHERE o.promotion_id = $2::uuid)::int AS "ordersWithCode",
            (SELECT ${promotionUsesOf('promotions')} FROM promotions WHERE id = $2::uuid) AS "usedCount",
            (SELECT count(*)::int FROM orders WHERE promotion_id = $2::uuid) AS "allOrdersWithCode"
       FROM orders o
      CROSS JOIN LATERAL (SELECT count(*)::int AS parcels FROM order_shipping os WHERE os.order_id = o.id) s
      WHERE o.user_id = ANY($1::uuid[])`,
    [customers.map((customer) => customer.id), expected.promotionId, expected.withCode, expected.parcels],
  );
  const found = rows[0];
  const usesTaken = found.usedCount - usedCountBefore;
  return {
    ...found,
    usesTaken,
    ok:
      found.discountOff === 0 &&
      found.untaxed === 0 &&
      found.parcelsOff === 0 &&
      found.promotionOff === 0 &&
      usesTaken === found.ordersWithCode &&
      found.usedCount === found.allOrdersWithCode,
  };
}

/** Compares the variants' stock before and after a run with the order lines of its customers, and audits the orders' pricing. */
export async function audit(pool: Pool, customers: Customer[], before: AuditBaseline, expected: PricingExpectation): Promise<Audit> {
  const userIds = customers.map((customer) => customer.id);
  const after = await stockOf(pool, [...before.stock.keys()]);
  const { rows: ordered } = await pool.query<{ variant_id: string | null; units: number }>(
    `SELECT oi.variant_id, sum(oi.quantity)::int AS units
       FROM orders o JOIN order_items oi ON oi.order_id = o.id
      WHERE o.user_id = ANY($1::uuid[])
      GROUP BY oi.variant_id`,
    [userIds],
  );
  const [{ orders }] = (await pool.query<{ orders: number }>('SELECT count(*)::int AS orders FROM orders WHERE user_id = ANY($1::uuid[])', [userIds])).rows;
  const [{ negative }] = (
    await pool.query<{ negative: number }>(
      'SELECT ((SELECT count(*) FROM product_variants WHERE stock_quantity < 0) + (SELECT count(*) FROM products WHERE stock_quantity < 0))::int AS negative',
    )
  ).rows;
  const totalsOff = await productTotalsOff(pool);
  const [{ cartsLeft }] = (
    await pool.query<{ cartsLeft: number }>(
      'SELECT count(DISTINCT c.id)::int AS "cartsLeft" FROM carts c JOIN cart_items ci ON ci.cart_id = c.id WHERE c.user_id = ANY($1::uuid[])',
      [userIds],
    )
  ).rows;
  // A line without a variant (NULL) is stock nobody can check: it counts as off.
  const orderedBy = new Map(ordered.map((row) => [row.variant_id ?? 'none', row.units]));
  let mismatched = 0;
  let unitsTaken = 0;
  for (const [id, was] of before.stock) {
    const taken = was - (after.get(id) ?? 0);
    unitsTaken += taken;
    if (taken !== (orderedBy.get(id) ?? 0)) mismatched += 1;
  }
  // Lines of variants outside the audited set would be stock nobody checked.
  for (const id of orderedBy.keys()) if (!before.stock.has(id)) mismatched += 1;
  const unitsOrdered = ordered.reduce((sum, row) => sum + row.units, 0);
  const pricing = await pricingAudit(pool, customers, expected, before.usedCount);
  return {
    orders,
    unitsOrdered,
    unitsTaken,
    negative,
    mismatched,
    totalsOff,
    cartsLeft,
    pricing,
    ok: negative === 0 && mismatched === 0 && totalsOff === 0 && unitsOrdered === unitsTaken && pricing.ok,
  };
}

export interface DatabaseCounters {
  commits: number;
  rollbacks: number;
  deadlocks: number;
}

/** Transactions committed and rolled back, and deadlocks, in this database so far (PostgreSQL flushes them about once a second). */
export async function databaseCounters(pool: Pool): Promise<DatabaseCounters> {
  const { rows } = await pool.query<DatabaseCounters>(
    `SELECT xact_commit::int AS commits, xact_rollback::int AS rollbacks, deadlocks::int AS deadlocks
       FROM pg_stat_database WHERE datname = current_database()`,
  );
  return rows[0];
}

/** CPU time of a process and of the whole machine so far, in seconds (Linux /proc; zeros elsewhere). */
export function cpuTimes(pid: number): { process: number; busy: number; total: number } {
  try {
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpu = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const total = cpu.reduce((sum, value) => sum + value, 0);
    const idle = cpu[3] + (cpu[4] ?? 0);
    return { process: (Number(fields[11]) + Number(fields[12])) / 100, busy: (total - idle) / 100, total: total / 100 };
  } catch {
    return { process: 0, busy: 0, total: 0 };
  }
}

export function randomPassword(): string {
  return randomBytes(18).toString('base64url');
}

/** A product the checkout rows sell: its seller and its active variants. */
export interface PoolProduct {
  sellerId: string;
  variants: string[];
}

/**
 * Two variants of two products of distinct sellers of the pool, drawn at random: a product,
 * then one of another seller, then one variant of each. Each order then ships two parcels.
 */
export function pickTwo(pool: PoolProduct[]): () => string[] {
  const othersOf = new Map<string, PoolProduct[]>();
  for (const { sellerId } of pool) if (!othersOf.has(sellerId)) othersOf.set(sellerId, pool.filter((product) => product.sellerId !== sellerId));
  if (othersOf.size < 2) throw new Error(`pickTwo: the pool's ${pool.length} products have ${othersOf.size} seller(s), two needed`);
  const anyOf = <T>(items: T[]): T => items[Math.floor(Math.random() * items.length)];
  return () => {
    const first = anyOf(pool);
    const second = anyOf(othersOf.get(first.sellerId)!);
    return [anyOf(first.variants), anyOf(second.variants)];
  };
}

export interface CheckoutPool {
  /** The hot product's first variant. */
  hot: string;
  /** The pool's products with their sellers and active variants. */
  products: PoolProduct[];
  /** Every variant of the pool, flat (the audited set). */
  variants: string[];
  /** The promotion of PROMO_CODE. */
  promotionId: string;
}

/**
 * What the checkout rows' orders are priced with, for the sellers they buy from: two shipping
 * rates each (Standard to the US, free over 100.00; Express anywhere), the California rate (on
 * lines and shipping) under a country-wide US rate, and PROMO_CODE, a platform code of 10 % with
 * no usage limit, so that no run uses it up. Written once: a second call finds them there.
 */
async function preparePricing(db: Pool, sellerIds: string[]): Promise<string> {
  await db.query(
    `INSERT INTO shipping_rates (seller_id, name, countries, price, free_over, estimated_days)
     SELECT s.id, r.name, r.countries, r.price, r.free_over, r.days
       FROM unnest($1::uuid[]) AS s(id)
      CROSS JOIN (VALUES ('Standard', ARRAY['US']::varchar(2)[], 5.00, 100.00, 5),
                         ('Express', ARRAY['*']::varchar(2)[], 15.00, NULL, 2)) AS r(name, countries, price, free_over, days)
      WHERE NOT EXISTS (SELECT 1 FROM shipping_rates x WHERE x.seller_id = s.id AND x.name = r.name)`,
    [sellerIds],
  );
  await db.query(
    `INSERT INTO tax_rates (country, state, rate, name, applies_to_shipping)
     VALUES ('US', 'CA', 0.0725, 'California sales tax', true), ('US', NULL, 0.0400, 'US sales tax', false)
     ON CONFLICT DO NOTHING`,
  );
  const { rows } = await db.query<{ id: string }>(
    `WITH made AS (
       INSERT INTO promotions (code, seller_id, type, value) VALUES ($1, NULL, 'percentage', 10) ON CONFLICT (code) DO NOTHING RETURNING id
     )
     SELECT id FROM made UNION ALL SELECT id FROM promotions WHERE code = $1`,
    [PROMO_CODE],
  );
  await db.query('ANALYZE shipping_rates, tax_rates, promotions');
  return rows[0].id;
}

/**
 * The checkout rows' variants: the active variants of the first active products by id (a hot
 * product and a pool of `poolSize`), each variant given PLENTY units and low-stock marks cleared, and their
 * products' stock brought in step (the sum over their active variants) in the same transaction;
 * and the shipping rates, tax rates and code their orders are priced with.
 */
const refreshProducts = toPositional(REFRESH_PRODUCTS);

export async function checkoutVariants(db: Pool, poolSize: number): Promise<CheckoutPool> {
  const { rows: picked } = await db.query<{ product_id: string; seller_id: string; variant_ids: string[] }>(
    `SELECT p.id AS product_id, p.seller_id, array_agg(v.id ORDER BY v.position, v.id)::text[] AS variant_ids
       FROM (SELECT id, seller_id FROM products WHERE status = 'active' AND deleted_at IS NULL ORDER BY id LIMIT $1) p
       JOIN product_variants v ON v.product_id = p.id AND v.status = 'active' AND v.deleted_at IS NULL
      GROUP BY p.id, p.seller_id
      ORDER BY p.id`,
    [poolSize + 1],
  );
  if (picked.length < 3) throw new Error(`checkout: only ${picked.length} active products with active variants`);
  const productIds = picked.map((row) => row.product_id);
  const client = await db.connect();
  try {
    await client.query('BEGIN');
    // Variants first, then products, each in id order: the order the checkout's stock statement locks them in.
    await client.query(
      `UPDATE product_variants v SET stock_quantity = $2, low_stock_alerted_at = NULL, updated_at = now()
         FROM (SELECT id FROM product_variants WHERE product_id = ANY($1::uuid[]) AND status = 'active' AND deleted_at IS NULL ORDER BY id) w
        WHERE v.id = w.id`,
      [productIds, PLENTY],
    );
    // The products in step with their variants, by the catalog's own statement.
    await client.query(refreshProducts.text, refreshProducts.names.map((name) => ({ productIds })[name]));
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  } finally {
    client.release();
  }
  await db.query('VACUUM ANALYZE product_variants');
  await db.query('VACUUM ANALYZE products');
  const promotionId = await preparePricing(db, [...new Set(picked.map((row) => row.seller_id))]);
  const products = picked.slice(1).map((row) => ({ sellerId: row.seller_id, variants: row.variant_ids }));
  return { hot: picked[0].variant_ids[0], products, variants: products.flatMap((product) => product.variants), promotionId };
}
