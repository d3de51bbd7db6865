import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Pool } from 'pg';
import { hashPassword } from '../src/platform/utils/password';

/**
 * The checkout rows of `npm run bench`: customers in a closed loop (each puts variants in its
 * cart and checks out, then starts again), against the API and against the bare server, with
 * an audit of the stock afterwards: no variant or product below zero, for every variant the
 * stock taken equals the quantity ordered, and every product's stock is the sum of its active
 * variants' (the take moves both in one statement).
 */

export const SHIPPING_BODY = {
  shippingAddress: { firstName: 'A', lastName: 'B', address1: '1 Road', city: 'X', postalCode: '123', country: 'GB' },
};

/** Paths of the three requests of one iteration. */
export interface Endpoints {
  addItem: string;
  checkout: string;
  clearCart: string;
}

export const API_ENDPOINTS: Endpoints = { addItem: '/api/cart/items', checkout: '/api/orders', clearCart: '/api/cart' };
export const BARE_ENDPOINTS: Endpoints = { addItem: '/cart/items', checkout: '/orders', clearCart: '/cart' };

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
  /** Failed requests (any of the three, network errors included) during the whole run, warm-up included. */
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
 * Runs one closed loop per token: add each picked variant (quantity 1), check out, again, for
 * the warm-up and then the measured seconds. A loop that is inside an iteration when time is up
 * finishes it (so every cart ends empty); after a failed request it empties its cart and starts
 * the next iteration.
 */
export async function runCheckoutLoop(options: LoopOptions): Promise<LoopResult> {
  const started = performance.now();
  const measureFrom = started + options.warmupSeconds * 1000;
  const measureTo = measureFrom + options.seconds * 1000;
  const latencies: number[] = [];
  const addLatencies: number[] = [];
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
  return {
    ordersPerSecond: Math.round(latencies.length / options.seconds),
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    addP50: percentile(addLatencies, 50),
    addP99: percentile(addLatencies, 99),
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

/** Compares the variants' stock before and after a run with the order lines of its customers. */
export async function audit(pool: Pool, customers: Customer[], before: Map<string, number>): Promise<Audit> {
  const userIds = customers.map((customer) => customer.id);
  const after = await stockOf(pool, [...before.keys()]);
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
  for (const [id, was] of before) {
    const taken = was - (after.get(id) ?? 0);
    unitsTaken += taken;
    if (taken !== (orderedBy.get(id) ?? 0)) mismatched += 1;
  }
  // Lines of variants outside the audited set would be stock nobody checked.
  for (const id of orderedBy.keys()) if (!before.has(id)) mismatched += 1;
  const unitsOrdered = ordered.reduce((sum, row) => sum + row.units, 0);
  return {
    orders,
    unitsOrdered,
    unitsTaken,
    negative,
    mismatched,
    totalsOff,
    cartsLeft,
    ok: negative === 0 && mismatched === 0 && totalsOff === 0 && unitsOrdered === unitsTaken,
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

/**
 * Two variants of two distinct products of the pool (one list of variant ids per product), drawn
 * at random: the product first, then one of its variants.
 */
export function pickTwo(pool: string[][]): () => string[] {
  if (pool.length < 2) throw new Error(`pickTwo: ${pool.length} products in the pool, two needed`);
  const anyOf = (variants: string[]) => variants[Math.floor(Math.random() * variants.length)];
  return () => {
    const first = Math.floor(Math.random() * pool.length);
    let second = Math.floor(Math.random() * (pool.length - 1));
    if (second >= first) second += 1;
    return [anyOf(pool[first]), anyOf(pool[second])];
  };
}
