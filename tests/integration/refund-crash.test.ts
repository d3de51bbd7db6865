import { QueryTypes } from 'sequelize';
import Stripe from 'stripe';
import { freePort } from '../../src/platform/utils/net';
import { createProduct, createUser, DEFAULT_PASSWORD } from '../fixtures';
import { useTestDatabase } from '../support/database';
import { ADDRESS } from '../support/orders';
import { spawnServer, type ServerProcess } from '../support/server-process';
import { StripeStub } from '../support/stripe-stub';

/**
 * A provider call that a committed change requires survives the process dying right after the
 * commit: the refund of a cancelled paid order is recorded with the cancel, so when the process is
 * killed while Stripe hangs on the refund and starts again once Stripe answers, the refund is made,
 * once, with no further request. The server runs as it does in production: its own process, jobs
 * in-process (no Redis), Stripe through the SDK.
 */
describe('a refund interrupted by a crash', () => {
  const db = useTestDatabase();
  const stub = new StripeStub();
  const signer = new Stripe('sk_test_signer');
  let port: number;
  let server: ServerProcess | undefined;

  beforeAll(async () => {
    await stub.start();
    port = await freePort();
  });

  afterAll(async () => {
    server?.child.kill('SIGKILL');
    await stub.stop();
  });

  function start(): ServerProcess {
    return spawnServer({
      ...process.env,
      ...stub.env(),
      NODE_ENV: 'development',
      LOG_LEVEL: 'warn',
      REDIS_URL: '',
      DATABASE_URL: db.current.url,
      PORT: String(port),
      APP_URL: `http://localhost:${port}`,
      // Long enough that the refund call is still in flight when the process is killed.
      STRIPE_TIMEOUT_MS: '60000',
      PROVIDER_RETRY_DELAY_MS: '1000',
    });
  }

  async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 40_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await probe().catch(() => undefined);
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; server output:\n${server?.output().slice(-3000)}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  async function call(method: string, path: string, token?: string, body?: unknown) {
    const response = await fetch(`http://127.0.0.1:${port}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as { data: Record<string, unknown> } };
  }

  async function orderRow(orderId: string) {
    const [row] = await db.current.sequelize.query<{ payment_status: string; amount_refunded: string; status: string }>(
      'SELECT status, payment_status, amount_refunded FROM orders WHERE id = $orderId',
      { bind: { orderId }, type: QueryTypes.SELECT },
    );
    return row;
  }

  it('is made once after the restart, with no further request', async () => {
    server = start();
    await until('the server to answer', async () => ((await fetch(`http://127.0.0.1:${port}/health`)).ok ? true : undefined));
    const customer = await createUser();
    const product = await createProduct({ price: '25.00', stockQuantity: 3 });
    const token = (await call('POST', '/api/auth/login', undefined, { email: customer.email, password: DEFAULT_PASSWORD })).body.data.accessToken as string;
    expect((await call('POST', '/api/cart/items', token, { productId: product.id, quantity: 1 })).status).toBe(201);
    const placed = await call('POST', '/api/orders', token, { shippingAddress: ADDRESS });
    expect(placed.status).toBe(201);
    const orderId = placed.body.data.id as string;
    const intent = await call('POST', '/api/payments/create-intent', token, { orderId });
    const intentId = intent.body.data.paymentIntentId as string;
    const { payload } = stub.event('payment_intent.succeeded', stub.succeed(intentId));
    const signature = signer.webhooks.generateTestHeaderString({ payload, secret: stub.webhookSecret });
    const delivered = await fetch(`http://127.0.0.1:${port}/api/webhooks/stripe`, { method: 'POST', headers: { 'content-type': 'application/json', 'stripe-signature': signature }, body: payload });
    expect(delivered.status).toBe(200);
    await until('the order to be paid', async () => ((await orderRow(orderId)).payment_status === 'paid' ? true : undefined));

    // Stripe takes the refund call and never answers; the process dies meanwhile.
    stub.failNext(/^POST \/v1\/refunds$/, 'hang');
    const cancel = call('POST', `/api/orders/${orderId}/cancel`, token, { reason: 'Changed my mind' }).catch(() => undefined);
    await until('the refund call to reach Stripe', async () => (stub.calls.some((c) => c.path === '/v1/refunds' && c.method === 'POST') ? true : undefined));
    server.child.kill('SIGKILL');
    await server.exited;
    await cancel;
    expect(await orderRow(orderId)).toMatchObject({ status: 'cancelled', payment_status: 'paid', amount_refunded: '0.00' });
    expect(stub.refundedTotal(intentId)).toBe(0);

    // Stripe is back (the hung call is dropped), the process starts again, and nobody asks for anything.
    server = start();
    const refunded = await until('the refund to complete', async () => ((await orderRow(orderId)).payment_status === 'refunded' ? orderRow(orderId) : undefined));
    expect(refunded).toMatchObject({ status: 'cancelled', amount_refunded: '25.00' });
    expect(stub.refundedTotal(intentId)).toBe(2500);
    const keys = stub.calls.filter((c) => c.path === '/v1/refunds' && c.method === 'POST').map((c) => c.idempotencyKey);
    expect(new Set(keys).size).toBe(1);
    const [{ refunds }] = await db.current.sequelize.query<{ refunds: number }>(
      `SELECT count(*)::int AS refunds FROM transactions WHERE order_id = $orderId AND type = 'refund' AND status = 'succeeded'`,
      { bind: { orderId }, type: QueryTypes.SELECT },
    );
    expect(refunds).toBe(1);
    server.child.kill('SIGTERM');
    await server.exited;
  }, 120_000);
});
