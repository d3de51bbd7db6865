// Imported first: the receiver of these tests listens on loopback, which webhooks may reach only with this.
process.env.WEBHOOK_ALLOW_PRIVATE_URLS = 'true';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { QueryTypes } from 'sequelize';
import { Webhook } from 'standardwebhooks';
import request from 'supertest';
import { Cart, CartItem } from '../../src/models';
import { createAdmin, createProduct, defaultVariantId } from '../fixtures';
import { useTestApp } from '../support/app';
import { login, signedInUser, type SignedIn } from '../support/auth';
import { signedInSeller, type SignedInSeller } from '../support/catalog';
import { ADDRESS } from '../support/orders';
import { outboxFor } from '../support/outbox';

interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/**
 * Outgoing webhooks against a local receiver that checks each delivery with the receiver side of
 * the Standard Webhooks library: signed, retried with the same id, never sent for a change that
 * rolled back, a seller's filtered to their lines, and endpoints that fail for days turned off.
 */
describe('outgoing webhooks', () => {
  const ctx = useTestApp();
  let adminBearer: string;
  let server: http.Server;
  let base: string;
  const received: Received[] = [];
  /** Status the receiver answers per path, in turn (200 once the list is used up). */
  const answers = new Map<string, number[]>();

  beforeAll(async () => {
    const admin = await createAdmin();
    adminBearer = `Bearer ${(await login(ctx.app, admin.email)).accessToken}`;
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      req.on('end', () => {
        received.push({ path: req.url ?? '', headers: req.headers, body });
        const queue = answers.get(req.url ?? '') ?? [];
        res.statusCode = queue.shift() ?? 200;
        res.end('ok');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  async function rows<T extends object>(sql: string, bind: Record<string, unknown> = {}): Promise<T[]> {
    return ctx.db.sequelize.query<T>(sql, { bind, type: QueryTypes.SELECT });
  }

  const register = (bearer: string, path: string, body: object) => request(ctx.app).post(path).set('Authorization', bearer).send(body);

  /** What reached `path`, checked with the endpoint's secret as a receiver would; waits up to `ms` for `count`. */
  async function deliveriesTo(path: string, secret: string, count: number, ms = 15_000): Promise<Array<{ id: string; type: string; data: Record<string, unknown>; headers: http.IncomingHttpHeaders }>> {
    const deadline = Date.now() + ms;
    while (received.filter((entry) => entry.path === path).length < count && Date.now() < deadline) {
      await ctx.jobsIdle();
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const verifier = new Webhook(secret);
    return received
      .filter((entry) => entry.path === path)
      .map((entry) => {
        const verified = verifier.verify(entry.body, {
          'webhook-id': String(entry.headers['webhook-id']),
          'webhook-timestamp': String(entry.headers['webhook-timestamp']),
          'webhook-signature': String(entry.headers['webhook-signature']),
        }) as { id: string; type: string; data: Record<string, unknown> };
        return { ...verified, headers: entry.headers };
      });
  }

  async function cartOf(customer: SignedIn, lines: Array<[string, number]>): Promise<void> {
    const cart = (await Cart.findOne({ where: { userId: customer.user.id } })) ?? (await Cart.create({ userId: customer.user.id, tokenHash: null, expiresAt: null }));
    for (const [productId, quantity] of lines) await CartItem.create({ cartId: cart.id, productId, variantId: await defaultVariantId(productId), quantity });
  }

  it("delivers signed events that the receiver's own check accepts, shows the secret once, and rolls it", async () => {
    const created = await register(adminBearer, '/api/admin/webhooks', { url: `${base}/erp`, events: ['order.created', 'order.paid'], description: 'ERP' });
    expect(created.status).toBe(201);
    const { id, secret } = created.body.data;
    expect(secret).toMatch(/^whsec_/);
    const listed = await request(ctx.app).get('/api/admin/webhooks').set('Authorization', adminBearer).expect(200);
    expect(JSON.stringify(listed.body)).not.toContain(secret);

    const seller = await signedInSeller(ctx.app);
    const product = await createProduct({ sellerId: seller.user.id, price: '10.00', stockQuantity: 10 });
    const customer = await signedInUser(ctx.app);
    await cartOf(customer, [[product.id, 2]]);
    const order = (await request(ctx.app).post('/api/orders').set('Authorization', customer.bearer).send({ shippingAddress: ADDRESS }).expect(201)).body.data;
    await request(ctx.app).post(`/api/admin/orders/${order.id}/mark-paid`).set('Authorization', adminBearer).send({}).expect(200);

    const events = await deliveriesTo('/erp', secret, 2);
    expect(events.map((event) => event.type)).toEqual(['order.created', 'order.paid']);
    expect(events[0].data).toMatchObject({ id: order.id, orderNumber: order.orderNumber, totalAmount: order.totalAmount });
    expect(events[1].data).toMatchObject({ id: order.id, paymentStatus: 'paid', status: 'confirmed' });
    for (const event of events) expect(event.headers['webhook-id']).toBe(event.id);

    const log = await request(ctx.app).get(`/api/admin/webhooks/${id}/deliveries`).set('Authorization', adminBearer).expect(200);
    expect(log.body.data.deliveries.map((delivery: { type: string; status: string; attempts: number }) => [delivery.type, delivery.status, delivery.attempts])).toEqual([
      ['order.paid', 'succeeded', 1],
      ['order.created', 'succeeded', 1],
    ]);

    // A new secret signs from now on; the old one no longer verifies.
    const rolled = await request(ctx.app).post(`/api/admin/webhooks/${id}/roll-secret`).set('Authorization', adminBearer).expect(200);
    expect(rolled.body.data.secret).not.toBe(secret);
    const redelivered = await request(ctx.app)
      .post(`/api/admin/webhooks/${id}/deliveries/${log.body.data.deliveries[1].id}/redeliver`)
      .set('Authorization', adminBearer)
      .expect(200);
    expect(redelivered.body.data.status).toBe('pending');
    for (let attempt = 0; attempt < 100 && received.filter((entry) => entry.path === '/erp').length < 3; attempt += 1) {
      await ctx.jobsIdle();
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const last = received.filter((entry) => entry.path === '/erp')[2];
    const check = (key: string) =>
      new Webhook(key).verify(last.body, {
        'webhook-id': String(last.headers['webhook-id']),
        'webhook-timestamp': String(last.headers['webhook-timestamp']),
        'webhook-signature': String(last.headers['webhook-signature']),
      });
    expect(() => check(rolled.body.data.secret)).not.toThrow();
    expect(() => check(secret)).toThrow();
    expect(JSON.parse(last.body).id).toBe(events[0].id);
    await request(ctx.app).delete(`/api/admin/webhooks/${id}`).set('Authorization', adminBearer).expect(200);
  });

  it('retries a delivery the receiver refused with the same id, and sends none for a checkout that rolled back', async () => {
    const created = (await register(adminBearer, '/api/admin/webhooks', { url: `${base}/flaky`, events: ['order.created'] })).body.data;
    answers.set('/flaky', [500]);
    const seller = await signedInSeller(ctx.app);
    const lastUnit = await createProduct({ sellerId: seller.user.id, price: '7.00', stockQuantity: 1 });
    const customers = await Promise.all(Array.from({ length: 5 }, () => signedInUser(ctx.app)));
    for (const customer of customers) await cartOf(customer, [[lastUnit.id, 1]]);
    const placed = await Promise.all(customers.map((customer) => request(ctx.app).post('/api/orders').set('Authorization', customer.bearer).send({ shippingAddress: ADDRESS })));
    expect(placed.filter((answer) => answer.status === 201)).toHaveLength(1);
    // The refused checkouts recorded their order.created and rolled back with it: one delivery only, tried twice.
    const events = await deliveriesTo('/flaky', created.secret, 2, 20_000);
    expect(events).toHaveLength(2);
    expect(events[0].id).toBe(events[1].id);
    expect(events[0].data).toMatchObject({ id: placed.find((answer) => answer.status === 201)!.body.data.id });
    const [delivery] = await rows<{ status: string; attempts: number; last_status_code: number }>(
      'SELECT status, attempts, last_status_code FROM webhook_deliveries WHERE endpoint_id = $id',
      { id: created.id },
    );
    expect(delivery).toEqual({ status: 'succeeded', attempts: 2, last_status_code: 200 });
    await request(ctx.app).delete(`/api/admin/webhooks/${created.id}`).set('Authorization', adminBearer).expect(200);
  }, 30_000);

  it("gives a seller's endpoint the events of their own lines only, without the order's totals", async () => {
    const mine = await signedInSeller(ctx.app);
    const other: SignedInSeller = await signedInSeller(ctx.app);
    const endpoint = (await register(mine.bearer, '/api/seller/webhooks', { url: `${base}/seller`, events: ['order.created', 'product.created'] })).body.data;
    expect((await request(ctx.app).get('/api/admin/webhooks').set('Authorization', adminBearer)).body.data.endpoints.map((row: { id: string }) => row.id)).not.toContain(endpoint.id);
    const ownProduct = await createProduct({ sellerId: mine.user.id, price: '3.00', stockQuantity: 5 });
    const otherProduct = await createProduct({ sellerId: other.user.id, price: '4.00', stockQuantity: 5 });
    const customer = await signedInUser(ctx.app);
    await cartOf(customer, [
      [ownProduct.id, 1],
      [otherProduct.id, 1],
    ]);
    await request(ctx.app).post('/api/orders').set('Authorization', customer.bearer).send({ shippingAddress: ADDRESS }).expect(201);
    const otherOnly = await signedInUser(ctx.app);
    await cartOf(otherOnly, [[otherProduct.id, 1]]);
    await request(ctx.app).post('/api/orders').set('Authorization', otherOnly.bearer).send({ shippingAddress: ADDRESS }).expect(201);
    await request(ctx.app)
      .post('/api/products')
      .set('Authorization', mine.bearer)
      .send({ name: 'Own Lamp', description: 'A lamp for the desk, with a warm light.', price: '20.00', sku: `LAMP-${Date.now()}`, stockQuantity: 3, status: 'active' })
      .expect(201);
    await request(ctx.app)
      .post('/api/products')
      .set('Authorization', other.bearer)
      .send({ name: 'Other Lamp', description: 'A lamp for the desk, with a cold light.', price: '21.00', sku: `LAMP-${Date.now()}-B`, stockQuantity: 3, status: 'active' })
      .expect(201);

    const events = await deliveriesTo('/seller', endpoint.secret, 2);
    await ctx.jobsIdle();
    expect(received.filter((entry) => entry.path === '/seller')).toHaveLength(2);
    const order = events.find((event) => event.type === 'order.created')!;
    expect((order.data.items as Array<{ sellerId: string }>).map((item) => item.sellerId)).toEqual([mine.user.id]);
    expect(order.data.totalAmount).toBeNull();
    expect(events.find((event) => event.type === 'product.created')!.data).toMatchObject({ name: 'Own Lamp', sellerId: mine.user.id });
  });

  it('turns off an endpoint that has failed for 3 days and mails its owner', async () => {
    const seller = await signedInSeller(ctx.app);
    const endpoint = (await register(seller.bearer, '/api/seller/webhooks', { url: `${base}/down`, events: ['product.updated'] })).body.data;
    answers.set('/down', [503]);
    await ctx.db.sequelize.query(`UPDATE webhook_endpoints SET failing_since = now() - interval '3 days 1 hour' WHERE id = $id`, { bind: { id: endpoint.id } });
    const product = await createProduct({ sellerId: seller.user.id, price: '5.00', stockQuantity: 5 });
    await request(ctx.app).patch(`/api/products/${product.id}`).set('Authorization', seller.bearer).send({ name: 'Renamed Product' }).expect(200);
    await deliveriesTo('/down', endpoint.secret, 1);
    await ctx.jobsIdle();
    const [row] = await rows<{ active: boolean }>('SELECT active FROM webhook_endpoints WHERE id = $id', { id: endpoint.id });
    expect(row.active).toBe(false);
    const [delivery] = await rows<{ status: string }>('SELECT status FROM webhook_deliveries WHERE endpoint_id = $id', { id: endpoint.id });
    expect(delivery.status).toBe('pending');
    await ctx.jobsIdle();
    for (let attempt = 0; attempt < 50 && outboxFor(seller.user.email).filter((mail) => /A webhook endpoint was turned off/.test(mail.subject)).length === 0; attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(outboxFor(seller.user.email).filter((mail) => /A webhook endpoint was turned off/.test(mail.subject))).toHaveLength(1);
    const list = await request(ctx.app).get('/api/seller/webhooks').set('Authorization', seller.bearer).expect(200);
    expect(list.body.data.endpoints[0]).toMatchObject({ id: endpoint.id, active: false });
  });

  it('refuses bad endpoints: unknown events, bad URLs, another owner’s, more than 20', async () => {
    const seller = await signedInSeller(ctx.app);
    for (const body of [
      { url: `${base}/x`, events: ['order.exploded'] },
      { url: `${base}/x`, events: [] },
      { url: 'ftp://example.com/x', events: ['order.paid'] },
      { url: `${base}/x`, events: ['order.paid'], secret: 'whsec_mine' },
    ]) {
      const res = await register(seller.bearer, '/api/seller/webhooks', body);
      expect([res.status, res.body.error.code]).toEqual([400, 'VALIDATION_ERROR']);
    }
    const mine = (await register(seller.bearer, '/api/seller/webhooks', { url: `${base}/x`, events: ['order.paid'] })).body.data;
    const other = await signedInSeller(ctx.app);
    expect((await request(ctx.app).patch(`/api/seller/webhooks/${mine.id}`).set('Authorization', other.bearer).send({ active: false })).status).toBe(404);
    expect((await request(ctx.app).get(`/api/admin/webhooks/${mine.id}/deliveries`).set('Authorization', adminBearer)).status).toBe(404);
    const more = await Promise.all(Array.from({ length: 22 }, () => register(seller.bearer, '/api/seller/webhooks', { url: `${base}/x`, events: ['order.paid'] })));
    expect(more.filter((answer) => answer.status === 201)).toHaveLength(19);
    expect(new Set(more.filter((answer) => answer.status !== 201).map((answer) => answer.body.error.code))).toEqual(new Set(['WEBHOOK_ENDPOINT_LIMIT']));
  });
});
