// Imported first: DATABASE_REPLICA_URLS is set before the configuration is read.
import { replicaEnv } from '../support/replica-env';
import v8 from 'node:v8';
import vm from 'node:vm';
import { Client } from 'pg';
import request from 'supertest';
import { createAdmin, createCategory, createProduct, createUser } from '../fixtures';
import { useTestApp } from '../support/app';
import { login } from '../support/auth';
import { signedInSeller, type SignedInSeller } from '../support/catalog';
import { databaseUrl } from '../support/database';
import { TcpProxy } from '../support/tcp-proxy';
import { acceptNonStandbysForTests, closeReadReplicas, MAX_STALENESS_MS, PIN_WINDOW_MS, queryReadRows, runWithReadRouting } from '../../src/platform/db/replicas';
import { forgetCatalogCaches } from '../../src/modules/catalog/catalog-cache';
import { keptResponse, rememberResponse } from '../../src/platform/utils/response-cache';

/**
 * DATABASE_REPLICA_URLS with two "replicas": a database of this file's own that is no replica at
 * all (same schema, different rows, so that an answer tells where it was read), reached through a
 * TCP proxy the test cuts, and a port that refuses connections. A plain database is not a standby
 * (pg_last_wal_replay_lsn() is NULL), which production never reads from; the test lets it pass
 * for a caught-up replica (acceptNonStandbysForTests). tests/cluster/replica.test.ts runs a real
 * streaming replica.
 */

const ctx = useTestApp();
const proxy = new TcpProxy(replicaEnv.target.host, replicaEnv.target.port);
let primary: Client;
let replica: Client;
let seller: SignedInSeller;
let productId = '';

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** Copies rows of the primary into the replica's database, as replication would have. */
async function copyRows(table: string, column: string, values: string[]): Promise<void> {
  const [{ list }] = (
    await primary.query<{ list: string }>(
      `SELECT string_agg(quote_ident(column_name), ', ' ORDER BY ordinal_position) AS list
         FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1 AND is_generated = 'NEVER'`,
      [table],
    )
  ).rows;
  const rows = (await primary.query<{ row: unknown }>(`SELECT row_to_json(t) AS row FROM ${table} t WHERE ${column} = ANY($1)`, [values])).rows;
  for (const { row } of rows) {
    await replica.query(`INSERT INTO ${table} (${list}) SELECT ${list} FROM json_populate_record(NULL::${table}, $1)`, [row]);
  }
}

const anonymousName = async (): Promise<string> => {
  const res = await request(ctx.app).get(`/api/products/${productId}`);
  expect(res.status).toBe(200);
  return res.body.data.name as string;
};

/**
 * Waits until the replica serves anonymous reads again: an event loop that stalls (a full GC of
 * a big heap, as the test below forces) makes the health checks late, and the replica is not
 * used until a check passes again.
 */
const replicaServes = () => eventually(async () => (await anonymousName()) === 'Replica Lamp', 'the replica to be usable');

beforeAll(async () => {
  const admin = new Client({ connectionString: process.env.TEST_PG_ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${replicaEnv.database} TEMPLATE ${process.env.TEST_PG_TEMPLATE ?? 'marketplace_template'}`);
  await admin.end();
  primary = new Client({ connectionString: ctx.db.url });
  replica = new Client({ connectionString: databaseUrl(replicaEnv.database) });
  await Promise.all([primary.connect(), replica.connect()]);
  // The file's databases are dropped WITH (FORCE) at its end, whatever is still connected.
  for (const client of [primary, replica]) client.on('error', () => undefined);
  await proxy.start(replicaEnv.proxyPort);

  seller = await signedInSeller(ctx.app);
  const product = await createProduct({ sellerId: seller.user.id, name: 'Primary Lamp' });
  productId = product.id;
  await copyRows('users', 'id', [seller.user.id]);
  await copyRows('seller_profiles', 'user_id', [seller.user.id]);
  await copyRows('products', 'id', [productId]);
  await copyRows('product_variants', 'product_id', [productId]);
  await replica.query(`UPDATE products SET name = 'Replica Lamp' WHERE id = $1`, [productId]);
  acceptNonStandbysForTests();
  // The first answer starts the router; the replica is usable once two health checks passed.
  await replicaServes();
});

afterAll(async () => {
  await closeReadReplicas();
  await proxy.stop();
  await Promise.all([primary?.end(), replica?.end()]);
  const admin = new Client({ connectionString: process.env.TEST_PG_ADMIN_URL });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${replicaEnv.database} WITH (FORCE)`);
  await admin.end();
});

describe('read replicas (DATABASE_REPLICA_URLS)', () => {
  beforeEach(replicaServes);

  it('reads the catalog of anonymous clients from a replica, skipping the one that refuses connections', async () => {
    const category = await createCategory({ name: 'Only On The Primary' });
    await replica.query(`INSERT INTO categories (id, name, slug, is_active, sort_order, created_at, updated_at) VALUES (gen_random_uuid(), 'Only On The Replica', $1, true, 0, now(), now())`, [
      `replica-only-${category.slug}`,
    ]);
    // Round-robin over two replicas, one refusing: every answer is 200 and read on the usable one.
    for (let i = 0; i < 6; i += 1) expect(await anonymousName()).toBe('Replica Lamp');
    const list = await request(ctx.app).get('/api/products').query({ search: 'lamp' });
    expect(list.status).toBe(200);
    expect(list.body.data.products.map((row: { name: string }) => row.name)).toEqual(['Replica Lamp']);
    const tree = await request(ctx.app).get('/api/categories');
    expect(tree.status).toBe(200);
    const names = tree.body.data.categories.map((row: { name: string }) => row.name);
    expect(names).toContain('Only On The Replica');
    expect(names).not.toContain('Only On The Primary');
    // A product's reviews too: the replica's row is the one listed.
    const author = await createUser();
    await copyRows('users', 'id', [author.id]);
    await replica.query(`UPDATE users SET name = 'Replica Reader' WHERE id = $1`, [author.id]);
    await replica.query(`INSERT INTO reviews (id, product_id, user_id, rating, comment, is_verified_purchase, created_at, updated_at)
                         VALUES (gen_random_uuid(), $1, $2, 5, 'Only on the replica', true, now(), now())`, [productId, author.id]);
    const reviews = await request(ctx.app).get(`/api/products/${productId}/reviews`);
    expect(reviews.status).toBe(200);
    expect(reviews.body.data.reviews.map((review: { comment: string; user: { name: string } }) => [review.comment, review.user.name])).toEqual([['Only on the replica', 'Replica Reader']]);
  });

  it('keeps nothing of a read once it is answered: the rows a replica served can be collected', async () => {
    v8.setFlagsFromString('--expose-gc');
    const collectGarbage = vm.runInNewContext('gc') as () => void;
    const anonymous = { primaryOnly: false, pinned: async () => false };
    const read = () =>
      runWithReadRouting(anonymous, () =>
        queryReadRows<{ database: string; n: number }>('SELECT current_database() AS database, n FROM generate_series(1, $count::int) n', { count: 1000 }),
      );
    // The rows are held by nothing but the WeakRef once this function returns.
    const firstRead = async () => {
      const rows = await read();
      expect(rows).toHaveLength(1000);
      expect(rows[0].database).toBe(replicaEnv.database);
      return new WeakRef(rows);
    };
    const served = await firstRead();
    // Later reads, as a busy process makes: none of them may keep the first one's rows reachable.
    for (let i = 0; i < 5; i += 1) expect((await read())[0].database).toBe(replicaEnv.database);
    await sleep(10);
    collectGarbage();
    await sleep(10);
    collectGarbage();
    expect(served.deref()).toBeUndefined();
  });

  it("reads a client's own write from the primary, through every read, until the pin window is over", async () => {
    const changed = await request(ctx.app).patch(`/api/products/${productId}`).set('Authorization', seller.bearer).send({ name: 'Renamed Lamp' });
    expect(changed.status).toBe(200);
    const own = await request(ctx.app).get(`/api/products/${productId}`).set('Authorization', seller.bearer);
    expect(own.body.data.name).toBe('Renamed Lamp');
    const dashboard = await request(ctx.app).get('/api/seller/products').set('Authorization', seller.bearer);
    expect(dashboard.body.data.products.map((row: { name: string }) => row.name)).toEqual(['Renamed Lamp']);
    // Another client is not pinned: it reads the replica, which (being no replica) never gets the
    // write (a late health check may send a read to the primary meanwhile).
    await eventually(async () => (await anonymousName()) === 'Replica Lamp', 'another client to read the replica');

    await sleep(PIN_WINDOW_MS + 300);
    const later = () => request(ctx.app).get(`/api/products/${productId}`).set('Authorization', seller.bearer);
    await eventually(async () => (await later()).body.data.name === 'Replica Lamp', "the seller's reads to go to the replica again");
  });

  it('pins a guest by its cart token after a cart write', async () => {
    const cart = await request(ctx.app).post('/api/cart');
    expect(cart.status).toBe(201);
    const token = cart.body.data.cartToken as string;
    const read = () => request(ctx.app).get(`/api/products/${productId}`).set('X-Cart-Token', token);
    expect((await read()).body.data.name).toBe('Replica Lamp');
    const [variant] = (await primary.query<{ id: string }>('SELECT id FROM product_variants WHERE product_id = $1', [productId])).rows;
    const added = await request(ctx.app).post('/api/cart/items').set('X-Cart-Token', token).send({ variantId: variant.id, quantity: 1 });
    expect(added.status).toBe(201);
    expect((await read()).body.data.name).toBe('Renamed Lamp');
  });

  it('reads the statistics from a replica', async () => {
    const admin = await createAdmin();
    const { accessToken } = await login(ctx.app, admin.email);
    await createUser({ role: 'customer' });
    await replica.query(
      `INSERT INTO users (email, password, name, role, status, email_verified, created_at, updated_at)
       SELECT 'replica-' || n || '@example.com', 'x', 'Replica Customer', 'customer', 'approved', true, now(), now() FROM generate_series(1, 7) n`,
    );
    const [{ count }] = (await replica.query<{ count: number }>(`SELECT count(*)::int AS count FROM users WHERE role = 'customer'`)).rows;
    const newCustomers = async () => {
      const res = await request(ctx.app).get('/api/admin/stats/overview').set('Authorization', `Bearer ${accessToken}`);
      expect(res.status).toBe(200);
      return res.body.data.newCustomers as number;
    };
    await eventually(async () => (await newCustomers()) === count, "the replica's count of customers");
  });

  it('clears the catalog caches again once a usable replica holds the write: an answer kept from a lagging replica just after a write does not outlive it', async () => {
    const answer = () => ({ body: Buffer.from('{"success":true,"data":{}}'), data: {} });
    forgetCatalogCaches();
    // As if read from a replica that had not replayed the write yet, and kept for a minute.
    rememberResponse('echo /api/products {}', answer(), 60_000);
    await sleep(MAX_STALENESS_MS / 2);
    expect(keptResponse('echo /api/products {}')?.response).toBeDefined();
    await sleep(MAX_STALENESS_MS / 2 + 100);
    expect(keptResponse('echo /api/products {}')?.response).toBeUndefined();

    // Kept after the second clear: it stays, there is no third one.
    rememberResponse('echo /api/products {}', answer(), 60_000);
    await sleep(MAX_STALENESS_MS + 100);
    expect(keptResponse('echo /api/products {}')?.response).toBeDefined();
  });

  it('moves reads to the primary at once when the replica goes away, with no failed request, and stays ready', async () => {
    expect(await anonymousName()).toBe('Replica Lamp');
    const answers: number[] = [];
    let reading = true;
    const load = (async () => {
      while (reading) answers.push((await request(ctx.app).get(`/api/products/${productId}`)).status);
    })();
    await sleep(200);
    await proxy.stop();
    const beforeStop = answers.length;
    // Reads through the stop and past the next health checks: 1.5 s, and ten answers at least however slow each is.
    await sleep(1500);
    await eventually(async () => answers.length - beforeStop >= 10, 'ten answers after the stop');
    reading = false;
    await load;
    expect(answers.filter((status) => status !== 200)).toEqual([]);
    expect(await anonymousName()).toBe('Renamed Lamp');
    const ready = await request(ctx.app).get('/ready');
    expect(ready.status).toBe(200);
  });
});
