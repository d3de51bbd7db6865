import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { startStreamingPair, type StreamingPair } from '../../bench/pg-cluster';
import { hashPassword } from '../../src/platform/utils/password';
import { call, memberEnv, startMember, stopMember, waitUntil, type Answer, type Member } from './harness';

/**
 * Two API processes on a PostgreSQL primary with a real streaming replica (DATABASE_REPLICA_URLS):
 * a primary of the test's own and a standby made from it by `pg_basebackup -R` (bench/pg-cluster.ts,
 * which the bench's replica rows run on too), which replays with a delay (recovery_min_apply_delay)
 * so that it is always a little behind, as a replica under load is. Shown: anonymous catalog reads
 * are served by the standby; a seller's write is read back at once by the same client through the
 * other process (while an anonymous read there still sees the old value); the standby stopped with
 * `pg_ctl stop -m immediate` under a steady read load fails no request and leaves /ready at 200.
 *
 * Needs the PostgreSQL server binaries with pg_basebackup (/usr/lib/postgresql/<version>/bin,
 * which `.ci/run` installs) and Redis (REDIS_URL). As root, PostgreSQL runs as the postgres user.
 */

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const PASSWORD = 'Cluster-Passw0rd!';
/** Always behind by this much, yet within the router's bound: usable, and stale right after a write. */
const APPLY_DELAY = '200ms';

const run = randomBytes(4).toString('hex');
const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'marketplace-replica-'));
const dataDir = path.join(workDir, 'data');
let apis: Member[] = [];
let pair: StreamingPair | undefined;
let primaryUrl = '';
let standbyUrl = '';

async function sql<T extends Record<string, unknown>>(url: string, text: string, values: unknown[] = []): Promise<T[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text, values)).rows as T[];
  } finally {
    await client.end();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

beforeAll(async () => {
  pair = await startStreamingPair({ tmpPrefix: 'marketplace-replica-pg-', database: 'marketplace', maxConnections: 100, applyDelay: APPLY_DELAY });
  ({ primaryUrl, standbyUrl } = pair);
  const env = {
    ...memberEnv({ databaseUrl: primaryUrl, redisUrl: REDIS_URL, redisPrefix: `rp${run}`, dataDir }),
    DATABASE_REPLICA_URLS: standbyUrl,
    // Every read reaches the database: the caches would hide where it is read.
    PUBLIC_CACHE_TTL_MS: '0',
    LISTING_TOTALS_TTL_MS: '0',
    JOBS_IN_API: 'true',
  };
  // One after the other: the first runs the migrations.
  apis = [await startMember('api1', 'api', env, workDir)];
  apis.push(await startMember('api2', 'api', env, workDir));
}, 180_000);

afterAll(async () => {
  await Promise.all(apis.map((member) => stopMember(member)));
  pair?.stop();
  fs.rmSync(workDir, { recursive: true, force: true });
}, 60_000);

const api = (index: number) => `http://127.0.0.1:${apis[index].port}`;

describe('two API processes with a streaming replica', () => {
  let productId = '';
  let sellerBearer = '';

  beforeAll(async () => {
    const email = `replica-seller-${run}@cluster.test`;
    const [seller] = await sql<{ id: string }>(
      primaryUrl,
      `INSERT INTO users (email, password, name, role, status, email_verified) VALUES ($1, $2, 'Replica Seller', 'seller', 'approved', true) RETURNING id`,
      [email, await hashPassword(PASSWORD, 4)],
    );
    await sql(primaryUrl, `INSERT INTO seller_profiles (user_id, store_name, store_slug, approved_at) VALUES ($1, 'Replica Store', $2, now())`, [seller.id, `store-${run}`]);
    const sku = `SKU-${run}`;
    const [product] = await sql<{ id: string }>(
      primaryUrl,
      `INSERT INTO products (seller_id, name, slug, price, price_max, sku, stock_quantity, status, short_description)
       VALUES ($1, 'Lamp v0', $2, '25.00', '25.00', $3, 50, 'active', 'A lamp') RETURNING id`,
      [seller.id, `lamp-${run}`, sku],
    );
    await sql(primaryUrl, `INSERT INTO product_variants (product_id, seller_id, sku, title, price, stock_quantity) VALUES ($1, $2, $3, 'Default', '25.00', 50)`, [product.id, seller.id, sku]);
    productId = product.id;
    const login = await call(api(0), 'POST', '/api/auth/login', { body: { email, password: PASSWORD } });
    expect(login.status).toBe(200);
    sellerBearer = `Bearer ${login.body.data.accessToken}`;
    // The standby replays the rows (after its delay); anonymous reads see them within a second.
    await waitUntil(async () => (await sql(standbyUrl, 'SELECT 1 FROM products WHERE id = $1', [productId])).length === 1, 20_000, 'the standby to replay the product');
    await sleep(1000);
  });

  it('serves anonymous catalog reads from the standby', async () => {
    const scans = async () => {
      const [row] = await sql<{ scans: string }>(standbyUrl, `SELECT (coalesce(sum(seq_scan), 0) + coalesce(sum(idx_scan), 0))::text AS scans FROM pg_stat_user_tables WHERE relname = 'products'`);
      return Number(row.scans);
    };
    const before = await scans();
    const READS = 60;
    for (let i = 0; i < READS; i += 1) {
      const answer = await call(api(i % 2), 'GET', i % 3 === 0 ? `/api/products?limit=5` : `/api/products/${productId}`);
      expect(answer.status).toBe(200);
    }
    // Both processes hold read connections on the standby, whose last statements read the catalog.
    const readers = await sql<{ query: string }>(standbyUrl, `SELECT query FROM pg_stat_activity WHERE application_name = 'marketplace-read' AND datname = 'marketplace'`);
    expect(readers.length).toBeGreaterThanOrEqual(2);
    expect(readers.some((row) => /FROM products/.test(row.query))).toBe(true);
    // The standby's own table statistics count the reads (backends report them within seconds).
    await waitUntil(async () => (await scans()) - before >= READS, 30_000, "the standby's scans of products to count the reads");
  });

  it("reads a seller's write back at once through the other process, while anonymous reads there may still be behind", async () => {
    const stale: number[] = [];
    // Ten rounds, and more (up to forty) until one anonymous read was behind: on a loaded machine
    // a read may come after the replay's delay, or a late health check may send it to the primary.
    for (let i = 1; i <= 10 || (stale.length === 0 && i <= 40); i += 1) {
      const changed = await call(api(0), 'PATCH', `/api/products/${productId}`, { body: { name: `Lamp v${i}` }, headers: { authorization: sellerBearer } });
      expect(changed.status).toBe(200);
      const [own, anonymous] = await Promise.all([
        call(api(1), 'GET', `/api/products/${productId}`, { headers: { authorization: sellerBearer } }),
        call(api(1), 'GET', `/api/products/${productId}`),
      ]);
      expect(own.body.data.name).toBe(`Lamp v${i}`);
      if (anonymous.body.data.name !== `Lamp v${i}`) stale.push(i);
      await sleep(100);
    }
    // The standby was behind (its replay is delayed): only the pin made the seller's reads fresh.
    expect(stale.length).toBeGreaterThan(0);
  });

  it('skips the standby once it is stopped, failing no request of a steady read load, and stays ready', async () => {
    const outcomes: Array<{ status: number; after: boolean; body?: unknown }> = [];
    let stopped = false;
    let loading = true;
    const loop = async (request: () => Promise<Answer>) => {
      while (loading) {
        const after = stopped;
        const answer = await request().catch((error: Error) => ({ status: 0, body: error.message }) as Answer);
        outcomes.push({ status: answer.status, after, ...(answer.status === 200 ? {} : { body: answer.body }) });
      }
    };
    const load = [0, 1].flatMap((index) => [
      loop(() => call(api(index), 'GET', `/api/products/${productId}`)),
      loop(() => call(api(index), 'GET', '/api/products?limit=5')),
      loop(() => call(api(index), 'GET', '/api/categories')),
    ]);
    try {
      await sleep(1000);
      pair!.stopStandby();
      stopped = true;
      await sleep(3000);
    } finally {
      loading = false;
      await Promise.all(load);
    }
    expect(outcomes.filter((outcome) => outcome.status !== 200)).toEqual([]);
    expect(outcomes.filter((outcome) => outcome.after).length).toBeGreaterThan(20);
    for (const index of [0, 1]) expect((await call(api(index), 'GET', '/ready')).status).toBe(200);
    // The processes said so in their logs.
    for (const member of apis) expect(fs.readFileSync(member.log, 'utf8')).toMatch(/read replica down/);
  });
});
