import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Pool } from 'pg';
import Stripe from 'stripe';
import { hashPassword } from '../../src/platform/utils/password';
import { ADDRESS } from '../support/orders';
import { StripeStub } from '../support/stripe-stub';
import { TcpProxy } from '../support/tcp-proxy';
import { call, mailsTo, memberEnv, RoundRobinProxy, startMember, stopMember, waitUntil, type Answer, type Member } from './harness';

/**
 * Two API processes and two workers on one PostgreSQL and one Redis, behind a round-robin proxy:
 * the guarantees of the contract's section 4, shown by running, loading, cutting and stopping them.
 * Needs a PostgreSQL server (CLUSTER_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/postgres)
 * and Redis (REDIS_URL, default redis://127.0.0.1:6379): `npm run test:cluster`.
 */

const ADMIN_URL = process.env.CLUSTER_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const PASSWORD = 'Cluster-Passw0rd!';

const run = randomBytes(4).toString('hex');
const database = `cluster_${run}`;
const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'marketplace-cluster-'));
const dataDir = path.join(workDir, 'data');
const stub = new StripeStub();
const redisProxy = new TcpProxy(REDIS.hostname, Number(REDIS.port || 6379));
const members: Member[] = [];
let apis: Member[] = [];
let proxy: RoundRobinProxy;
let base = '';
// A pool: the tests' own statements run at once (node-postgres does not queue on a busy client past pg 8).
let db: Pool;
let passwordHash = '';
let redisListening = false;

function databaseUrl(): string {
  const url = new URL(ADMIN_URL);
  url.pathname = `/${database}`;
  return url.toString();
}

async function sql<T extends Record<string, unknown>>(text: string, values: unknown[] = []): Promise<T[]> {
  return (await db.query(text, values)).rows as T[];
}

async function user(role: 'customer' | 'seller' | 'admin'): Promise<{ id: string; email: string }> {
  const email = `${role}-${randomBytes(5).toString('hex')}@cluster.test`;
  const [row] = await sql<{ id: string }>(
    `INSERT INTO users (email, password, name, role, status, email_verified) VALUES ($1, $2, $3, $4, 'approved', true) RETURNING id`,
    [email, passwordHash, `Cluster ${role}`, role],
  );
  if (role === 'seller') {
    await sql(`INSERT INTO seller_profiles (user_id, store_name, store_slug, approved_at) VALUES ($1, 'Cluster Store', $2, now())`, [row.id, `store-${randomBytes(5).toString('hex')}`]);
  }
  return { id: row.id, email };
}

async function bearer(email: string, target = base): Promise<string> {
  const answer = await call(target, 'POST', '/api/auth/login', { body: { email, password: PASSWORD } });
  if (answer.status !== 200) throw new Error(`login failed: ${answer.status} ${JSON.stringify(answer.body)}`);
  return `Bearer ${answer.body.data.accessToken}`;
}

/** A product sold as one default variant, holding the stock. */
async function product(sellerId: string, stock: number, price = '25.00'): Promise<string> {
  const sku = `SKU-${randomBytes(4).toString('hex')}`;
  const [row] = await sql<{ id: string }>(
    `INSERT INTO products (seller_id, name, slug, price, price_max, sku, stock_quantity, status, short_description)
     VALUES ($1, 'Cluster Lamp', $2, $3, $3, $4, $5, 'active', 'A lamp') RETURNING id`,
    [sellerId, `lamp-${randomBytes(5).toString('hex')}`, price, sku, stock],
  );
  await sql(`INSERT INTO product_variants (product_id, seller_id, sku, title, price, stock_quantity) VALUES ($1, $2, $3, 'Default', $4, $5)`, [
    row.id,
    sellerId,
    sku,
    price,
    stock,
  ]);
  return row.id;
}

async function cartWith(userId: string, productId: string, quantity: number): Promise<void> {
  const [cart] = await sql<{ id: string }>(`INSERT INTO carts (user_id) VALUES ($1) ON CONFLICT (user_id) DO UPDATE SET updated_at = now() RETURNING id`, [userId]);
  await sql(`INSERT INTO cart_items (cart_id, product_id, variant_id, quantity) SELECT $1, product_id, id, $3 FROM product_variants WHERE product_id = $2`, [
    cart.id,
    productId,
    quantity,
  ]);
}

function apiBase(member: Member): string {
  return `http://127.0.0.1:${member.port}`;
}

beforeAll(async () => {
  passwordHash = await hashPassword(PASSWORD, 4);
  const admin = new Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  await admin.end();
  await stub.start();
  const redisPort = await redisProxy.start();
  redisListening = true;
  const env = {
    ...memberEnv({ databaseUrl: databaseUrl(), redisUrl: `redis://127.0.0.1:${redisPort}`, redisPrefix: `cl${run}`, dataDir }),
    ...stub.env(),
  };
  // Both APIs start at once: migrations run under an advisory lock, one after the other.
  apis = await Promise.all([startMember('api1', 'api', env, workDir), startMember('api2', 'api', env, workDir)]);
  members.push(...apis);
  members.push(...(await Promise.all([startMember('worker1', 'worker', env, workDir), startMember('worker2', 'worker', env, workDir)])));
  proxy = new RoundRobinProxy(() => apis.filter((member) => member.process.exitCode === null).map((member) => member.port!));
  base = await proxy.start();
  db = new Pool({ connectionString: databaseUrl(), max: 4 });
  // The test that terminates the database's connections ends the pool's idle ones too: the pool drops them and connects again.
  db.on('error', () => undefined);
}, 180_000);

afterAll(async () => {
  // Redis back first: a worker closes its queues through it.
  if (redisProxy.port && !redisListening) await redisProxy.start(redisProxy.port).catch(() => undefined);
  await Promise.all(members.map((member) => stopMember(member)));
  await proxy?.stop();
  await db?.end();
  await stub.stop();
  await redisProxy.stop();
  const admin = new Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  await admin.end();
}, 60_000);

describe('a cluster of two API processes and two workers', () => {
  let sellerBearer: string;
  let adminBearer: string;
  let seller: { id: string; email: string };

  beforeAll(async () => {
    seller = await user('seller');
    const admin = await user('admin');
    sellerBearer = await bearer(seller.email);
    adminBearer = await bearer(admin.email);
  });

  it('runs the storefront flow end to end through the proxy', async () => {
    const productId = await product(seller.id, 20, '30.00');
    const email = `shopper-${run}@cluster.test`;
    const registered = await call(base, 'POST', '/api/auth/register', { body: { email, password: PASSWORD, name: 'Cluster Shopper' } });
    expect(registered.status).toBe(201);
    const customer = `Bearer ${registered.body.data.accessToken}`;
    expect((await call(base, 'POST', '/api/cart/items', { body: { productId, quantity: 2 }, headers: { authorization: customer } })).status).toBe(201);
    const placed = await call(base, 'POST', '/api/orders', { body: { shippingAddress: ADDRESS }, headers: { authorization: customer } });
    expect(placed.status).toBe(201);
    const orderId = placed.body.data.id as string;
    const intent = await call(base, 'POST', '/api/payments/create-intent', { body: { orderId }, headers: { authorization: customer } });
    expect(intent.body.data.provider).toBe('stripe');
    stub.succeed(intent.body.data.paymentIntentId);
    const confirmed = await call(base, 'POST', '/api/payments/confirm', { body: { orderId, paymentIntentId: intent.body.data.paymentIntentId }, headers: { authorization: customer } });
    expect(confirmed.body.data.status).toBe('confirmed');
    expect((await call(base, 'PATCH', `/api/seller/orders/${orderId}/items/fulfil`, { body: { trackingNumber: 'CL-1' }, headers: { authorization: sellerBearer } })).body.data.status).toBe('shipped');
    expect((await call(base, 'PATCH', `/api/admin/orders/${orderId}/status`, { body: { status: 'delivered' }, headers: { authorization: adminBearer } })).body.data.status).toBe('delivered');
    const review = await call(base, 'POST', `/api/products/${productId}/reviews`, { body: { rating: 5, comment: 'Bright and steady.' }, headers: { authorization: customer } });
    expect(review.status).toBe(201);
    // Mails are sent by the workers, whichever takes them.
    await waitUntil(() => mailsTo(dataDir, email).length >= 4, 30_000, 'welcome, verification, confirmation and shipping mails');
  });

  it('sells the last 10 units to exactly 10 of 100 customers checking out at once across both processes', async () => {
    const productId = await product(seller.id, 10);
    const customers = await Promise.all(Array.from({ length: 100 }, () => user('customer')));
    for (const customer of customers) await cartWith(customer.id, productId, 1);
    const bearers = await Promise.all(customers.map((customer) => bearer(customer.email)));
    const answers = await Promise.all(bearers.map((authorization) => call(base, 'POST', '/api/orders', { body: { shippingAddress: ADDRESS }, headers: { authorization } })));
    const statuses = answers.map((answer) => answer.status);
    expect(statuses.filter((status) => status === 201)).toHaveLength(10);
    expect(statuses.filter((status) => status === 409)).toHaveLength(90);
    const [{ stock_quantity }] = await sql<{ stock_quantity: number }>('SELECT stock_quantity FROM products WHERE id = $1', [productId]);
    expect(stock_quantity).toBe(0);
  }, 60_000);

  it('applies a webhook delivered to both processes at once exactly once', async () => {
    const buyer = await user('customer');
    const productId = await product(seller.id, 5);
    await cartWith(buyer.id, productId, 1);
    const authorization = await bearer(buyer.email);
    const orderId = (await call(base, 'POST', '/api/orders', { body: { shippingAddress: ADDRESS }, headers: { authorization } })).body.data.id as string;
    const intent = (await call(base, 'POST', '/api/payments/create-intent', { body: { orderId }, headers: { authorization } })).body.data;
    const { payload } = stub.event('payment_intent.succeeded', stub.succeed(intent.paymentIntentId));
    const signature = new Stripe('sk_test_signer').webhooks.generateTestHeaderString({ payload, secret: stub.webhookSecret });
    const answers = await Promise.all(
      apis.map((api) => call(apiBase(api), 'POST', '/api/webhooks/stripe', { raw: payload, headers: { 'content-type': 'application/json', 'stripe-signature': signature } })),
    );
    expect(answers.map((answer) => answer.status)).toEqual([200, 200]);
    expect(answers.filter((answer: Answer) => answer.body.data.duplicate === false)).toHaveLength(1);
    await waitUntil(async () => (await sql<{ status: string }>('SELECT status FROM orders WHERE id = $1', [orderId]))[0].status === 'confirmed', 20_000, 'the order to be confirmed');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await sql(`SELECT id FROM order_status_history WHERE order_id = $1 AND to_status = 'confirmed'`, [orderId])).toHaveLength(1);
    expect(await sql(`SELECT id FROM transactions WHERE order_id = $1 AND type = 'payment'`, [orderId])).toHaveLength(1);
  });

  it('creates one payout per seller when payouts run on both processes at once', async () => {
    await sql(`UPDATE order_items SET delivered_at = now() - interval '30 days' WHERE seller_id = $1 AND delivered_at IS NOT NULL`, [seller.id]);
    const answers = await Promise.all(apis.map((api) => call(apiBase(api), 'POST', '/api/admin/payouts/run', { body: {}, headers: { authorization: adminBearer } })));
    expect(answers.map((answer) => answer.status)).toEqual([200, 200]);
    expect(await sql('SELECT id FROM seller_payouts WHERE seller_id = $1', [seller.id])).toHaveLength(1);
  });

  it('counts rate limits across processes', async () => {
    const [first, second] = await Promise.all(apis.map((api) => call(apiBase(api), 'GET', '/api/categories')));
    const remaining = [Number(first.headers['ratelimit-remaining']), Number(second.headers['ratelimit-remaining'])].sort((a, b) => b - a);
    const third = await call(apiBase(apis[0]), 'GET', '/api/categories');
    expect(Number(third.headers['ratelimit-remaining'])).toBe(remaining[1] - 1);
  });

  it('shows a write made through one process through the other within a second', async () => {
    const productId = await product(seller.id, 3, '10.00');
    const [one, two] = apis.map(apiBase);
    await call(two, 'GET', `/api/products/${productId}`);
    expect((await call(two, 'GET', `/api/products/${productId}`)).headers['x-cache']).toBe('HIT');
    const changed = await call(one, 'PATCH', `/api/products/${productId}`, { body: { price: '12.00' }, headers: { authorization: sellerBearer } });
    expect(changed.status).toBe(200);
    const written = Date.now();
    await waitUntil(async () => (await call(two, 'GET', `/api/products/${productId}`)).body.data.price === '12.00', 1000, 'the new price on the other process');
    expect(Date.now() - written).toBeLessThanOrEqual(1000);
  });

  it('loses no mail of registrations and checkouts made while Redis is down', async () => {
    const redisPort = redisProxy.port;
    await redisProxy.stop();
    redisListening = false;
    const emails = Array.from({ length: 6 }, (_, i) => `outage-${i}-${run}@cluster.test`);
    const answers = await Promise.all(emails.map((email) => call(base, 'POST', '/api/auth/register', { body: { email, password: PASSWORD, name: 'Outage Shopper' } })));
    expect(answers.map((answer) => answer.status)).toEqual(emails.map(() => 201));
    const buyer = await user('customer');
    const productId = await product(seller.id, 5);
    await cartWith(buyer.id, productId, 1);
    const checkout = await call(base, 'POST', '/api/orders', { body: { shippingAddress: ADDRESS }, headers: { authorization: await bearer(buyer.email) } });
    expect(checkout.status).toBe(201);
    expect((await call(base, 'GET', '/ready')).status).toBe(503);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(emails.some((email) => mailsTo(dataDir, email).length > 0)).toBe(false);

    await redisProxy.start(redisPort);
    redisListening = true;
    await waitUntil(() => emails.every((email) => mailsTo(dataDir, email).length === 2), 60_000, 'the welcome and verification mails of every registration');
    await waitUntil(async () => (await call(base, 'GET', '/ready')).status === 200, 20_000, 'both processes to be ready again');
  }, 120_000);

  it('recovers from its database connections being terminated, with no 5xx after recovery', async () => {
    const load = Array.from({ length: 60 }, (_, i) => call(base, 'GET', `/api/products?page=${(i % 3) + 1}`).catch(() => ({ status: 0 }) as Answer));
    await sql(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, [database]);
    await Promise.all(load);
    await waitUntil(async () => (await call(base, 'GET', '/ready')).status === 200 && (await call(base, 'GET', '/ready')).status === 200, 30_000, 'readiness after the terminations');
    const after = await Promise.all(Array.from({ length: 50 }, (_, i) => call(base, 'GET', `/api/products?limit=${(i % 5) + 1}`)));
    expect(after.filter((answer) => answer.status >= 500)).toEqual([]);
  }, 60_000);

  it('loses no request when one API process is sent SIGTERM under load, and that process exits 0', async () => {
    const [victim] = apis;
    const lostBefore = proxy.lost;
    const load = Array.from({ length: 200 }, (_, i) =>
      new Promise((resolve) => setTimeout(resolve, i * 5)).then(() => call(base, 'GET', `/api/products?limit=${(i % 10) + 1}`)),
    );
    setTimeout(() => victim.process.kill('SIGTERM'), 300);
    const answers = await Promise.all(load);
    expect(answers.filter((answer) => answer.status !== 200).map((answer) => answer.status)).toEqual([]);
    expect(proxy.lost).toBe(lostBefore);
    expect(await victim.exited).toBe(0);
  }, 60_000);
});
