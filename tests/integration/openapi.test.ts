import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { createAdmin, createReview, createSeller, createUser, DEFAULT_PASSWORD } from '../fixtures';
import { registeredRoutes } from '../../src/platform/http/openapi';
import { createProduct } from '../fixtures';
import { useTestApp } from '../support/app';
import { login, signedInUser } from '../support/auth';
import { IMAGES } from '../support/images';

/**
 * The routes of the API contract, in OpenAPI path form. `served` routes must be in the published
 * OpenAPI document; the document must hold no route outside this list. A route moves from
 * planned to served in the change that builds it.
 */
const CONTRACT: Record<string, 'served' | 'planned'> = {
  'POST /api/auth/register': 'served',
  'POST /api/auth/login': 'served',
  'POST /api/auth/refresh-token': 'served',
  'POST /api/auth/logout': 'served',
  'GET /api/auth/me': 'served',
  'PATCH /api/auth/me': 'served',
  'POST /api/auth/change-password': 'served',
  'POST /api/auth/forgot-password': 'served',
  'POST /api/auth/reset-password': 'served',
  'POST /api/auth/verify-email': 'served',
  'POST /api/auth/resend-verification': 'served',

  'GET /api/me/addresses': 'served',
  'POST /api/me/addresses': 'served',
  'PATCH /api/me/addresses/{id}': 'served',
  'DELETE /api/me/addresses/{id}': 'served',

  'GET /api/categories': 'served',
  'GET /api/categories/{id}': 'served',
  'POST /api/categories': 'served',
  'PATCH /api/categories/{id}': 'served',
  'DELETE /api/categories/{id}': 'served',
  'GET /api/products': 'served',
  'GET /api/products/search': 'served',
  'GET /api/products/{id}': 'served',
  'GET /api/products/{id}/related': 'served',
  'POST /api/products': 'served',
  'PATCH /api/products/{id}': 'served',
  'DELETE /api/products/{id}': 'served',
  'GET /api/products/facets': 'served',
  'POST /api/products/{id}/variants': 'served',
  'PATCH /api/products/{id}/variants/{variantId}': 'served',
  'DELETE /api/products/{id}/variants/{variantId}': 'served',
  'GET /api/products/{id}/reviews': 'served',
  'POST /api/products/{id}/reviews': 'served',
  'PATCH /api/reviews/{id}': 'served',
  'DELETE /api/reviews/{id}': 'served',

  'GET /api/cart': 'served',
  'POST /api/cart': 'served',
  'POST /api/cart/items': 'served',
  'PATCH /api/cart/items/{itemId}': 'served',
  'DELETE /api/cart/items/{itemId}': 'served',
  'DELETE /api/cart': 'served',
  'POST /api/cart/promo': 'served',
  'DELETE /api/cart/promo': 'served',
  'POST /api/cart/quote': 'served',

  'POST /api/orders': 'served',
  'GET /api/orders': 'served',
  'GET /api/orders/{id}': 'served',
  'GET /api/orders/{id}/history': 'served',
  'POST /api/orders/{id}/cancel': 'served',
  'POST /api/orders/{id}/returns': 'served',
  'GET /api/seller/returns': 'served',
  'POST /api/seller/returns/{id}/approve': 'served',
  'POST /api/seller/returns/{id}/reject': 'served',
  'POST /api/seller/returns/{id}/receive': 'served',
  'GET /api/admin/webhooks': 'served',
  'POST /api/admin/webhooks': 'served',
  'PATCH /api/admin/webhooks/{id}': 'served',
  'DELETE /api/admin/webhooks/{id}': 'served',
  'POST /api/admin/webhooks/{id}/roll-secret': 'served',
  'GET /api/admin/webhooks/{id}/deliveries': 'served',
  'POST /api/admin/webhooks/{id}/deliveries/{deliveryId}/redeliver': 'served',
  'GET /api/seller/webhooks': 'served',
  'POST /api/seller/webhooks': 'served',
  'PATCH /api/seller/webhooks/{id}': 'served',
  'DELETE /api/seller/webhooks/{id}': 'served',
  'POST /api/seller/webhooks/{id}/roll-secret': 'served',
  'GET /api/seller/webhooks/{id}/deliveries': 'served',
  'POST /api/seller/webhooks/{id}/deliveries/{deliveryId}/redeliver': 'served',
  'GET /api/admin/returns': 'served',
  'POST /api/admin/returns/{id}/approve': 'served',
  'POST /api/admin/returns/{id}/reject': 'served',
  'POST /api/admin/returns/{id}/receive': 'served',

  'POST /api/payments/create-intent': 'served',
  'POST /api/payments/confirm': 'served',
  'GET /api/payments/orders/{orderId}': 'served',
  'POST /api/webhooks/stripe': 'served',

  'POST /api/upload/image': 'served',
  'POST /api/upload/images': 'served',
  'DELETE /api/upload/{publicId}': 'served',

  'GET /api/seller/profile': 'served',
  'PATCH /api/seller/profile': 'served',
  'GET /api/seller/products': 'served',
  'GET /api/seller/orders': 'served',
  'GET /api/seller/orders/{id}': 'served',
  'PATCH /api/seller/orders/{id}/items/fulfil': 'served',
  'GET /api/seller/payouts': 'served',
  'GET /api/seller/ledger': 'served',
  'GET /api/seller/stats': 'served',
  'GET /api/seller/shipping-rates': 'served',
  'POST /api/seller/shipping-rates': 'served',
  'PATCH /api/seller/shipping-rates/{id}': 'served',
  'DELETE /api/seller/shipping-rates/{id}': 'served',
  'GET /api/seller/promotions': 'served',
  'POST /api/seller/promotions': 'served',
  'PATCH /api/seller/promotions/{id}': 'served',
  'DELETE /api/seller/promotions/{id}': 'served',

  'GET /api/admin/users': 'served',
  'GET /api/admin/users/{id}': 'served',
  'PATCH /api/admin/users/{id}/status': 'served',
  'GET /api/admin/sellers': 'served',
  'POST /api/admin/sellers/{id}/approve': 'served',
  'POST /api/admin/sellers/{id}/reject': 'served',
  'GET /api/admin/orders': 'served',
  'PATCH /api/admin/orders/{id}/status': 'served',
  'POST /api/admin/orders/{id}/mark-paid': 'served',
  'POST /api/admin/orders/{id}/refund': 'served',
  'GET /api/admin/transactions': 'served',
  'GET /api/admin/payouts': 'served',
  'GET /api/admin/disputes': 'served',
  'POST /api/admin/payouts/run': 'served',
  'POST /api/admin/payouts/{id}/mark-paid': 'served',
  'GET /api/admin/stats/overview': 'served',
  'GET /api/admin/stats/sales': 'served',
  'GET /api/admin/stats/top-products': 'served',
  'GET /api/admin/stats/top-sellers': 'served',
  'GET /api/admin/tax-rates': 'served',
  'POST /api/admin/tax-rates': 'served',
  'PATCH /api/admin/tax-rates/{id}': 'served',
  'DELETE /api/admin/tax-rates/{id}': 'served',
  'GET /api/admin/promotions': 'served',
  'POST /api/admin/promotions': 'served',
  'PATCH /api/admin/promotions/{id}': 'served',
  'DELETE /api/admin/promotions/{id}': 'served',

  'GET /health': 'served',
  'GET /ready': 'served',
  'GET /metrics': 'served',
  'GET /api/openapi.json': 'served',
  'GET /api/docs': 'served',
};

describe('OpenAPI document', () => {
  const ctx = useTestApp();

  it('holds every served route of the contract, and nothing outside it', async () => {
    const res = await request(ctx.app).get('/api/openapi.json');
    const published = Object.entries(res.body.paths as Record<string, Record<string, unknown>>).flatMap(([path, operations]) =>
      Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`),
    );
    const served = Object.entries(CONTRACT)
      .filter(([, state]) => state === 'served')
      .map(([route]) => route);
    expect(published.filter((route) => !(route in CONTRACT))).toEqual([]);
    expect(served.filter((route) => !published.includes(route))).toEqual([]);
  });

  it('documents request bodies, parameters, security and error answers', async () => {
    const { body } = await request(ctx.app).get('/api/openapi.json');
    const register = body.paths['/api/auth/register'].post;
    expect(register.requestBody.content['application/json'].schema.properties).toHaveProperty('email');
    expect(register.responses).toHaveProperty('201');
    expect(register.responses['409'].description).toContain('USER_EXISTS');
    const users = body.paths['/api/admin/users'].get;
    expect(users.security).toEqual([{ bearer: [] }]);
    expect(users.parameters.map((p: { name: string }) => p.name)).toEqual(expect.arrayContaining(['page', 'limit', 'role', 'status', 'search']));
    expect(users.responses).toHaveProperty('403');
    const user = body.paths['/api/admin/users/{id}'].get;
    expect(user.parameters).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'id', in: 'path', required: true })]));
  });

  it('names each path position once, so no two paths differ only by a parameter name', async () => {
    const { body } = await request(ctx.app).get('/api/openapi.json');
    const byShape = new Map<string, string[]>();
    for (const path of Object.keys(body.paths)) {
      const shape = path.replace(/\{[^}]+\}/g, '{}');
      byShape.set(shape, [...(byShape.get(shape) ?? []), path]);
    }
    expect([...byShape.values()].filter((paths) => paths.length > 1)).toEqual([]);
    const product = body.paths['/api/products/{id}'].get;
    expect(product.parameters).toEqual([expect.objectContaining({ name: 'id', in: 'path', description: 'The product id, or its slug' })]);
  });

  it('points Swagger UI at the origin it is served from, not at APP_URL', async () => {
    const { body } = await request(ctx.app).get('/api/openapi.json');
    expect(body.servers).toEqual([expect.objectContaining({ url: '/' })]);
  });

  it('is OpenAPI 3.1: null is a type (JSON Schema 2020-12), never the 3.0 nullable keyword', async () => {
    const { body } = await request(ctx.app).get('/api/openapi.json');
    expect(body.openapi).toBe('3.1.0');
    const problems: string[] = [];
    const walk = (node: unknown, at: string): void => {
      if (!node || typeof node !== 'object') return;
      if (Array.isArray(node)) return node.forEach((item, index) => walk(item, `${at}/${index}`));
      const record = node as Record<string, unknown>;
      if ('nullable' in record) problems.push(`${at}: nullable`);
      if (typeof record.pattern === 'string' && record.pattern.endsWith('/')) problems.push(`${at}: pattern ending in a regex flag's slash`);
      for (const key of ['oneOf', 'anyOf']) if (Array.isArray(record[key]) && (record[key] as unknown[]).length < 2) problems.push(`${at}: ${key} of one`);
      for (const [key, value] of Object.entries(record)) if (key !== 'example' && key !== 'enum') walk(value, `${at}/${key}`);
    };
    walk(body, '#');
    expect(problems).toEqual([]);
  });

  it("passes Redocly's recommended rules", async () => {
    const { body } = await request(ctx.app).get('/api/openapi.json');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'openapi-'));
    const file = path.join(dir, 'openapi.json');
    fs.writeFileSync(file, JSON.stringify(body));
    const redocly = path.resolve(__dirname, '..', '..', 'node_modules', '.bin', 'redocly');
    const result = await new Promise<{ code: number; output: string }>((resolve) => {
      execFile(
        redocly,
        ['lint', '--extends', 'recommended', '--format', 'summary', file],
        { cwd: dir, env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' }, timeout: 60_000 },
        (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, output: `${stdout}${stderr}` }),
      );
    });
    // Errors fail the lint, and no warning is left: every route, the probes too, answers 400 to input it does not take.
    expect(result).toEqual({ code: 0, output: expect.stringContaining('Your API description is valid') });
    const warnings = [...result.output.matchAll(/^warning\s+(\S+):\s+(\d+)/gm)].map((match) => `${match[1]}: ${match[2]}`);
    expect(warnings).toEqual([]);
  }, 60_000);

  it('describes the real shapes of users, products, categories, reviews and uploads', async () => {
    // Each answer is held to the document by the recorder every test app runs behind (useTestApp): here they must also be successes.
    const check = (res: request.Response, method: string, path: string) => {
      expect(`${method} ${path} ${res.status}`).toMatch(/ 20[01]$/);
    };

    const registered = await request(ctx.app).post('/api/auth/register').send({ email: `shape-${Date.now()}@example.test`, password: 'Long-enough-9', name: 'Shape Tester' });
    check(registered, 'POST', '/api/auth/register');
    const sellerSignup = await request(ctx.app)
      .post('/api/auth/register')
      .send({ email: `shape-seller-${Date.now()}@example.test`, password: 'Long-enough-9', name: 'Shape Seller', role: 'seller', storeName: 'Shape Store' });
    check(sellerSignup, 'POST', '/api/auth/register');
    const customer = await signedInUser(ctx.app);
    check(await request(ctx.app).post('/api/auth/login').send({ email: customer.user.email, password: DEFAULT_PASSWORD }), 'POST', '/api/auth/login');
    check(await request(ctx.app).post('/api/auth/refresh-token').send({ refreshToken: customer.refreshToken }), 'POST', '/api/auth/refresh-token');
    check(await request(ctx.app).get('/api/auth/me').set('Authorization', customer.bearer), 'GET', '/api/auth/me');
    check(await request(ctx.app).post('/api/cart'), 'POST', '/api/cart');
    check(await request(ctx.app).post('/api/cart').set('Authorization', customer.bearer), 'POST', '/api/cart');

    const admin = await createAdmin();
    const adminAuth = `Bearer ${(await login(ctx.app, admin.email)).accessToken}`;
    const parent = await request(ctx.app).post('/api/categories').set('Authorization', adminAuth).send({ name: `Shape Parent ${Date.now()}`, description: 'Top' });
    check(parent, 'POST', '/api/categories');
    const child = await request(ctx.app).post('/api/categories').set('Authorization', adminAuth).send({ name: `Shape Child ${Date.now()}`, parentId: parent.body.data.id });
    check(child, 'POST', '/api/categories');
    check(await request(ctx.app).get('/api/categories'), 'GET', '/api/categories');
    check(await request(ctx.app).get(`/api/categories/${parent.body.data.slug}`), 'GET', '/api/categories/{id}');
    check(await request(ctx.app).get('/api/admin/users').set('Authorization', adminAuth), 'GET', '/api/admin/users');
    check(await request(ctx.app).get('/api/admin/sellers').set('Authorization', adminAuth), 'GET', '/api/admin/sellers');

    const { user: seller } = await createSeller();
    const sellerAuth = `Bearer ${(await login(ctx.app, seller.email)).accessToken}`;
    check(await request(ctx.app).get(`/api/admin/users/${seller.id}`).set('Authorization', adminAuth), 'GET', '/api/admin/users/{id}');
    check(await request(ctx.app).get('/api/seller/profile').set('Authorization', sellerAuth), 'GET', '/api/seller/profile');
    const created = await request(ctx.app)
      .post('/api/products')
      .set('Authorization', sellerAuth)
      .send({
        name: 'Shape Lamp',
        description: 'A lamp that holds the documented shape.',
        shortDescription: 'A lamp of documented shape.',
        price: '49.90',
        comparePrice: 59.9,
        costPrice: '20.00',
        sku: `SHAPE-${Date.now()}`,
        stockQuantity: 5,
        weight: 1.25,
        dimensions: { length: 20, width: 20, height: 45, unit: 'cm' },
        status: 'active',
        categoryId: child.body.data.id,
        tags: ['lamp', 'light'],
      });
    check(created, 'POST', '/api/products');
    const productId = created.body.data.id as string;
    check(await request(ctx.app).patch(`/api/products/${productId}`).set('Authorization', sellerAuth).send({ stockQuantity: 7 }), 'PATCH', '/api/products/{id}');
    check(await request(ctx.app).get('/api/products'), 'GET', '/api/products');
    check(await request(ctx.app).get('/api/products/search?q=lamp'), 'GET', '/api/products/search');
    check(await request(ctx.app).get(`/api/products/${created.body.data.slug}`), 'GET', '/api/products/{id}');
    check(await request(ctx.app).get(`/api/products/${productId}`).set('Authorization', sellerAuth), 'GET', '/api/products/{id}');
    check(await request(ctx.app).get(`/api/products/${productId}/related`), 'GET', '/api/products/{id}/related');
    check(await request(ctx.app).get('/api/seller/products').set('Authorization', sellerAuth), 'GET', '/api/seller/products');

    const author = await createUser();
    const review = await createReview({ productId, userId: author.id, title: null });
    check(await request(ctx.app).get(`/api/products/${productId}/reviews`), 'GET', '/api/products/{id}/reviews');
    const authorAuth = `Bearer ${(await login(ctx.app, author.email)).accessToken}`;
    check(await request(ctx.app).patch(`/api/reviews/${review.id}`).set('Authorization', authorAuth).send({ rating: 4 }), 'PATCH', '/api/reviews/{id}');
    check(await request(ctx.app).delete(`/api/reviews/${review.id}`).set('Authorization', authorAuth), 'DELETE', '/api/reviews/{id}');

    check(await request(ctx.app).post('/api/upload/image').set('Authorization', sellerAuth).attach('image', IMAGES.png, 'pixel.png'), 'POST', '/api/upload/image');
    check(
      await request(ctx.app).post('/api/upload/images').set('Authorization', sellerAuth).attach('images', IMAGES.png, 'a.png').attach('images', IMAGES.gif, 'b.gif'),
      'POST',
      '/api/upload/images',
    );
    check(await request(ctx.app).delete(`/api/products/${productId}`).set('Authorization', sellerAuth), 'DELETE', '/api/products/{id}');

  }, 60_000);

  it('gives every request body an example its route accepts', () => {
    const problems: string[] = [];
    for (const route of registeredRoutes()) {
      const body = route.meta.schemas?.body;
      if (!body) continue;
      const at = `${route.method.toUpperCase()} ${route.path}`;
      if (route.doc.example === undefined) problems.push(`${at}: no example`);
      else if (body.validate(route.doc.example).error) problems.push(`${at}: ${body.validate(route.doc.example).error?.message}`);
    }
    expect(problems).toEqual([]);
  });

  it("places an order from Swagger's own example, with the Idempotency-Key it documents", async () => {
    const { body: doc } = await request(ctx.app).get('/api/openapi.json');
    const checkout = doc.paths['/api/orders'].post;
    expect(checkout.parameters).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'Idempotency-Key', in: 'header' })]));
    expect(checkout.responses['201'].headers).toHaveProperty('Idempotent-Replayed');
    const customer = await signedInUser(ctx.app);
    const product = await createProduct({ stockQuantity: 3 });
    await request(ctx.app).post('/api/cart/items').set('Authorization', customer.bearer).send({ productId: product.id, quantity: 1 }).expect(201);
    const example = checkout.requestBody.content['application/json'].example;
    const placed = await request(ctx.app).post('/api/orders').set('Authorization', customer.bearer).set('Idempotency-Key', 'swagger-example-1').send(example);
    expect(placed.status).toBe(201);
    const replayed = await request(ctx.app).post('/api/orders').set('Authorization', customer.bearer).set('Idempotency-Key', 'swagger-example-1').send(example);
    expect(replayed.headers['idempotent-replayed']).toBe('true');
    expect(replayed.body.data.id).toBe(placed.body.data.id);
  });

  it('generates a client (openapi-typescript) whose types every body received here type-checks against', async () => {
    const { body: doc } = await request(ctx.app).get('/api/openapi.json');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'openapi-client-'));
    fs.writeFileSync(path.join(dir, 'openapi.json'), JSON.stringify(doc));
    const bin = (name: string) => path.resolve(__dirname, '..', '..', 'node_modules', '.bin', name);
    const run = (command: string, args: string[]) =>
      new Promise<string>((resolve, reject) => {
        execFile(command, args, { cwd: dir, timeout: 120_000 }, (error, stdout, stderr) => (error ? reject(new Error(`${stdout}${stderr}`)) : resolve(stdout)));
      });
    await run(bin('openapi-typescript'), ['openapi.json', '-o', 'api.ts']);
    const samples = [...ctx.conformance.samples.values()];
    expect(samples.length).toBeGreaterThan(20);
    const lines = samples.map(
      (sample, index) =>
        `export const sample${index}: paths[${JSON.stringify(sample.path)}][${JSON.stringify(sample.method)}]['responses'][${sample.status}]['content']['application/json'] = ${JSON.stringify(sample.body)};`,
    );
    fs.writeFileSync(path.join(dir, 'bodies.ts'), `import type { paths } from './api';\n${lines.join('\n')}\n`);
    await expect(run(bin('tsc'), ['--noEmit', '--strict', '--target', 'es2022', '--module', 'commonjs', '--skipLibCheck', 'bodies.ts'])).resolves.toBeDefined();
  }, 120_000);

  it('declares every error code the code base throws on some operation', async () => {
    const { body: doc } = await request(ctx.app).get('/api/openapi.json');
    const declared = new Set<string>();
    for (const operations of Object.values(doc.paths as Record<string, Record<string, { responses: Record<string, any> }>>)) {
      for (const operation of Object.values(operations)) {
        for (const response of Object.values(operation.responses)) {
          for (const code of response.content?.['application/json']?.schema?.properties?.error?.properties?.code?.enum ?? []) declared.add(code);
        }
      }
    }
    const thrown = new Set<string>();
    const walk = (dir: string): void => {
      for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const file = path.join(dir, entry.name);
        if (entry.isDirectory()) walk(file);
        else if (file.endsWith('.ts')) for (const match of fs.readFileSync(file, 'utf8').matchAll(/Error\(\s*'([A-Z][A-Z_]{2,})'/g)) thrown.add(match[1]);
      }
    };
    walk(path.resolve(__dirname, '..', '..', 'src'));
    expect([...thrown].filter((code) => !declared.has(code)).sort()).toEqual([]);
  });
});
