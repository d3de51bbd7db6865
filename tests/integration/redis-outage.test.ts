import '../support/commerce-env';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { QueryTypes } from 'sequelize';
import { ADDRESS } from '../support/orders';
import { TcpProxy } from '../support/tcp-proxy';
import { useTestDatabase } from '../support/database';

// With Redis lost, requests that do not need it keep their usual speed: rate limits count in
// memory, the catalog caches' version is unknown, jobs wait in the outbox. Nothing waits on Redis.

const describeRedis = process.env.REDIS_URL ? describe : describe.skip;

const SAMPLES = 12;
/**
 * A request may take this long at most while Redis is away: the first ones find out that it
 * stopped answering (a command times out after 500 ms), and a loaded machine adds its share. A
 * request that waited on the lost Redis would take ioredis' 10 s or forever.
 */
const MAX_REQUEST_MS = 3000;
/**
 * A median may reach this many times the usual one, plus FLOOR_MS, while Redis is away: the usual
 * speed was measured in another test, under the machine's load of that moment, and a median of a
 * few milliseconds must not make the comparison flaky. A wait on Redis in every request (500 ms at
 * least) is far above it.
 */
const SLOWER_FACTOR = 3;
const FLOOR_MS = 100;

type Operation = 'catalog read' | 'registration' | 'login' | 'cart add + checkout';
type Timings = Record<Operation, number[]>;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

describeRedis('requests while Redis is lost', () => {
  const db = useTestDatabase();
  const target = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  let proxy: TcpProxy;
  let server: Server;
  let base: string;
  let direct: Redis;
  let modules: {
    jobs: typeof import('../../src/jobs');
    redis: typeof import('../../src/platform/redis');
    config: typeof import('../../src/platform/config');
    cache: typeof import('../../src/modules/catalog/catalog-cache');
    health: typeof import('../../src/platform/http/health.routes');
    fixtures: typeof import('../fixtures');
    outbox: typeof import('../support/outbox');
  };
  let productId: string;
  let buyer: { email: string; password: string };
  let sequence = 0;
  let usual: Record<Operation, number>;

  beforeAll(async () => {
    proxy = new TcpProxy(target.hostname, Number(target.port || 6379));
    const port = await proxy.start();
    // Config is read on first use: point REDIS_URL at the proxy before the app is loaded.
    process.env.REDIS_URL = `redis://127.0.0.1:${port}`;
    modules = {
      jobs: await import('../../src/jobs'),
      redis: await import('../../src/platform/redis'),
      config: await import('../../src/platform/config'),
      cache: await import('../../src/modules/catalog/catalog-cache'),
      health: await import('../../src/platform/http/health.routes'),
      fixtures: await import('../fixtures'),
      outbox: await import('../support/outbox'),
    };
    const { createApp } = await import('../../src/app');
    // What the test reads and writes in Redis itself goes around the proxy.
    direct = new Redis(target.toString(), { maxRetriesPerRequest: 1 });

    modules.jobs.initJobs();
    await modules.jobs.startJobProcessing();
    modules.cache.startCatalogCacheSync();
    server = createApp().listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    const product = await modules.fixtures.createProduct({ stockQuantity: 100_000, price: '12.50' });
    productId = product.id;
    const user = await modules.fixtures.createUser();
    buyer = { email: user.email, password: modules.fixtures.DEFAULT_PASSWORD };
  });

  afterAll(async () => {
    modules.cache.stopCatalogCacheSync();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await modules.jobs.closeJobs();
    const keys = await direct.keys(`${modules.config.config.redisPrefix}:*`);
    if (keys.length > 0) await direct.del(...keys);
    await direct.quit();
    await modules.redis.closeRedis();
    await proxy.stop();
  });

  async function call(method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; body: { data?: { accessToken?: string } }; headers: Headers }> {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as { data?: { accessToken?: string } }, headers: res.headers };
  }

  function newEmail(label: string): string {
    sequence += 1;
    return `${label}-${sequence}-${db.current.name}@redis-outage.test`.toLowerCase();
  }

  /** Each operation once, timed; the answers are checked, so a fast failure cannot pass for speed. */
  async function round(timings: Timings, registered: string[]): Promise<void> {
    const timed = async (operation: Operation, run: () => Promise<void>) => {
      const started = performance.now();
      await run();
      timings[operation].push(performance.now() - started);
    };
    await timed('catalog read', async () => {
      expect((await call('GET', `/api/products/${productId}`)).status).toBe(200);
    });
    await timed('registration', async () => {
      const email = newEmail('outage');
      expect((await call('POST', '/api/auth/register', { email, password: 'Sturdy-pass-42', name: 'Outage Test' })).status).toBe(201);
      registered.push(email);
    });
    let token = '';
    await timed('login', async () => {
      const res = await call('POST', '/api/auth/login', buyer);
      expect(res.status).toBe(200);
      token = res.body.data?.accessToken ?? '';
    });
    await timed('cart add + checkout', async () => {
      expect((await call('POST', '/api/cart/items', { productId, quantity: 1 }, token)).status).toBe(201);
      expect((await call('POST', '/api/orders', { shippingAddress: ADDRESS }, token)).status).toBe(201);
    });
  }

  async function measure(): Promise<{ medians: Record<Operation, number>; slowest: number; registered: string[] }> {
    const timings: Timings = { 'catalog read': [], registration: [], login: [], 'cart add + checkout': [] };
    const registered: string[] = [];
    for (let i = 0; i < SAMPLES; i += 1) await round(timings, registered);
    const medians = Object.fromEntries(Object.entries(timings).map(([operation, values]) => [operation, median(values)])) as Record<Operation, number>;
    return { medians, slowest: Math.max(...Object.values(timings).flat()), registered };
  }

  function expectUsualSpeed(measured: { medians: Record<Operation, number>; slowest: number }): void {
    const slower = (Object.keys(usual) as Operation[])
      .filter((operation) => measured.medians[operation] > SLOWER_FACTOR * usual[operation] + FLOOR_MS)
      .map((operation) => `${operation}: median ${measured.medians[operation].toFixed(1)} ms, usually ${usual[operation].toFixed(1)} ms`);
    expect(slower).toEqual([]);
    expect(measured.slowest).toBeLessThan(MAX_REQUEST_MS);
  }

  async function waitForReady(): Promise<void> {
    // An answer given before Redis came back stands for READY_CHECK_TTL_MS.
    await sleep(modules.health.READY_CHECK_TTL_MS + 50);
    const deadline = Date.now() + 20_000;
    while ((await call('GET', '/ready')).status !== 200) {
      if (Date.now() > deadline) throw new Error('/ready did not come back to 200');
      await sleep(100);
    }
  }

  /** The general limit's count of this client in Redis, read around the proxy. */
  async function sharedCount(): Promise<number> {
    const keys = await direct.keys(`${modules.config.config.redisPrefix}:rl:api:*`);
    expect(keys).toHaveLength(1);
    return Number(await direct.get(keys[0]));
  }

  async function expectBackInRedis(registeredMeanwhile: string[]): Promise<void> {
    await waitForReady();
    // Counted in Redis again: a request adds one to the shared count.
    const before = await sharedCount();
    expect((await call('GET', `/api/products/${productId}`)).status).toBe(200);
    expect(await sharedCount()).toBe(before + 1);
    // The mails recorded while Redis was away went through the queue once it came back.
    const deadline = Date.now() + 20_000;
    const delivered = () => registeredMeanwhile.every((email) => modules.outbox.outboxFor(email).length === 2);
    while (!delivered() && Date.now() < deadline) await sleep(200);
    expect(registeredMeanwhile.filter((email) => modules.outbox.outboxFor(email).length !== 2)).toEqual([]);
  }

  it('measures the usual speed with Redis up', async () => {
    await waitForReady();
    // Warm-up: connections, statements and the scripts of the limiter.
    await round({ 'catalog read': [], registration: [], login: [], 'cart add + checkout': [] }, []);
    const measured = await measure();
    usual = measured.medians;
    expect(await sharedCount()).toBeGreaterThan(0);
    await expectBackInRedis(measured.registered);
  }, 60_000);

  it('keeps that speed while Redis stops answering (nothing goes through, sockets stay open), then uses Redis again', async () => {
    proxy.silence();
    const remaining = async () => Number((await call('GET', `/api/products/${productId}`)).headers.get('ratelimit-remaining'));
    const measured = await measure();
    expectUsualSpeed(measured);
    // Limits still hold, counted in this process meanwhile.
    const first = await remaining();
    expect(await remaining()).toBe(first - 1);
    // Their mails wait in the outbox.
    const [waiting] = await db.current.sequelize.query<{ count: number }>(`SELECT count(*)::int AS count FROM outbox WHERE sent_at IS NULL`, {
      type: QueryTypes.SELECT,
    });
    expect(waiting.count).toBeGreaterThan(0);

    proxy.resume();
    await expectBackInRedis(measured.registered);
  }, 90_000);

  it('keeps that speed while Redis refuses connections, then uses Redis again', async () => {
    const port = proxy.port;
    await proxy.stop();
    const measured = await measure();
    expectUsualSpeed(measured);

    await proxy.start(port);
    await expectBackInRedis(measured.registered);
  }, 90_000);
});
