import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import path from 'node:path';
import request from 'supertest';
import { CATALOG, type ProductKind } from '../../src/seed/catalog';
import { Category, Product, User } from '../../src/models';
import { slugify } from '../../src/platform/utils/slug';
import { verifyPassword } from '../../src/platform/utils/password';
import { createUser } from '../fixtures';
import { useTestApp } from '../support/app';
import { login } from '../support/auth';
import { databaseUrl } from '../support/database';

const root = path.resolve(__dirname, '..', '..');

function run(script: string, args: string[], databaseName: string, env: Record<string, string> = {}): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--require', 'tsx/cjs', script, ...args], {
      cwd: root,
      env: { ...process.env, DATABASE_URL: databaseUrl(databaseName), LOG_LEVEL: 'error', REDIS_URL: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => resolve({ code, output }));
  });
}

describe('operator commands', () => {
  const ctx = useTestApp();

  it('npm run migrate finds nothing to do on a migrated database', async () => {
    const { code, output } = await run('src/cli/migrate.ts', ['up'], ctx.db.name);
    expect(code).toBe(0);
    expect(output).toContain('Nothing to migrate');
  }, 30_000);

  it('npm run admin:create refuses weak passwords and bad usage, creates an admin, and promotes an account', async () => {
    const weak = await run('src/cli/admin-create.ts', ['--email', 'boss@example.test', '--password', 'password', '--name', 'Boss'], ctx.db.name);
    expect(weak.code).toBe(1);
    expect(weak.output).toContain('--password');
    const usage = await run('src/cli/admin-create.ts', ['--email', 'boss@example.test'], ctx.db.name);
    expect(usage.code).toBe(1);
    expect(usage.output).toContain('usage');
    expect(await User.count({ where: { email: 'boss@example.test' } })).toBe(0);

    const created = await run('src/cli/admin-create.ts', ['--email', 'Boss@Example.test', '--password', 'Corner-office-9', '--name', 'The Boss'], ctx.db.name);
    expect(created.code).toBe(0);
    expect(created.output).toContain('Created admin boss@example.test');
    expect(created.output).not.toContain('Corner-office-9');
    const login = await request(ctx.app).post('/api/auth/login').send({ email: 'boss@example.test', password: 'Corner-office-9' });
    expect(login.body.data.user).toMatchObject({ role: 'admin', status: 'approved' });
    const admin = await request(ctx.app).get('/api/admin/users').set('Authorization', `Bearer ${login.body.data.accessToken}`);
    expect(admin.status).toBe(200);

    const customer = await createUser({ status: 'suspended' });
    const promoted = await run('src/cli/admin-create.ts', ['--email', customer.email, '--password', 'Promoted-pass-7', '--name', 'Promoted One'], ctx.db.name);
    expect(promoted.code).toBe(0);
    await customer.reload();
    expect(customer).toMatchObject({ role: 'admin', status: 'approved', name: 'Promoted One' });
    expect(await verifyPassword('Promoted-pass-7', customer.password)).toBe(true);
  }, 60_000);

  it('npm run seed -- --products N makes N products, with a progress bar, that fit their categories', async () => {
    const before = await Product.count();
    const { code, output } = await run('src/cli/seed.ts', ['up', '--products', '120', '--sellers', '2'], ctx.db.name);
    expect(code).toBe(0);
    expect(output).toMatch(/products \[[^\]]*\] 120\/120 100%/);
    expect(output).toContain('Created 120 products from 2 sellers');
    expect((await Product.count()) - before).toBe(120);

    // Every kind of product belongs to one category (by slug), and its noun is unique in the catalog.
    const kindsBySlug = new Map<string, ProductKind[]>();
    for (const [parentName, parent] of Object.entries(CATALOG)) {
      if (parent.kinds) kindsBySlug.set(slugify(parentName), parent.kinds);
      for (const [childName, child] of Object.entries(parent.children)) kindsBySlug.set(slugify(`${parentName} ${childName}`), child.kinds);
    }
    const nouns = [...kindsBySlug.values()].flat().map((kind) => kind.noun.toLowerCase());
    expect(new Set(nouns).size).toBe(nouns.length);
    const categoryOfNoun = new Map([...kindsBySlug].flatMap(([slug, kinds]) => kinds.map((kind) => [kind.noun.toLowerCase(), slug] as const)));

    const products = await Product.findAll({ include: [{ model: Category, as: 'category' }], order: [['createdAt', 'DESC']], limit: 120 });
    const misfits = products
      .map((product) => {
        const name = product.name.toLowerCase();
        // The longest noun in the name: "Camera Lens" rather than a shorter noun it may contain.
        const noun = nouns.filter((candidate) => name.includes(candidate)).sort((a, b) => b.length - a.length)[0];
        const problems = [];
        if (!noun) problems.push('names no kind of product');
        else {
          if (categoryOfNoun.get(noun) !== product.category?.slug) problems.push(`is in ${product.category?.slug}, not ${categoryOfNoun.get(noun)}`);
          if (!product.description?.toLowerCase().includes(noun)) problems.push(`description does not mention a ${noun}`);
          if (!product.shortDescription?.toLowerCase().includes(noun) && !product.description?.toLowerCase().startsWith(product.shortDescription?.toLowerCase() ?? '-')) {
            problems.push('short description is not about it');
          }
          const others = nouns.filter((other) => other !== noun && !noun.includes(other) && product.description!.toLowerCase().includes(other));
          if (others.length > 0) problems.push(`description also speaks of ${others.join(', ')}`);
        }
        return problems.length > 0 ? `${product.name}: ${problems.join('; ')}` : undefined;
      })
      .filter(Boolean);
    expect(misfits).toEqual([]);
    expect(new Set(products.map((product) => product.category?.slug)).size).toBeGreaterThan(8);
  }, 60_000);

  it('npm run seed refuses to seed the demo data in production', async () => {
    const before = await User.count();
    const secret = () => randomBytes(48).toString('base64');
    const { code, output } = await run('src/cli/seed.ts', ['up'], ctx.db.name, {
      NODE_ENV: 'production',
      JWT_SECRET: secret(),
      JWT_REFRESH_SECRET: secret(),
      BCRYPT_ROUNDS: '10',
    });
    expect(code).toBe(1);
    expect(output).toContain('never seeded in production');
    expect(await User.count()).toBe(before);
  }, 30_000);

  it('npm run seed gives every dashboard data: an admin, orders in every state, payouts, statistics, reviews', async () => {
    const { code, output } = await run('src/cli/seed.ts', ['up'], ctx.db.name, { LOG_LEVEL: 'info', LOG_IN_TESTS: '1' });
    expect(code).toBe(0);
    const adminPassword = /demo\.admin@example\.com \/ ([\w-]+)/.exec(output)?.[1];
    const sellerPassword = /demo\.seller-2@example\.com \/ ([\w-]+)/.exec(output)?.[1];
    const customerPassword = /demo\.customer@example\.com \/ ([\w-]+)/.exec(output)?.[1];
    expect({ adminPassword, sellerPassword, customerPassword, output }).toEqual({
      adminPassword: expect.any(String),
      sellerPassword: expect.any(String),
      customerPassword: expect.any(String),
      output: expect.any(String),
    });
    const as = async (email: string, password: string) => `Bearer ${(await login(ctx.app, email, password)).accessToken}`;
    const admin = await as('demo.admin@example.com', adminPassword!);
    const get = async (path: string, bearer: string) => {
      const res = await request(ctx.app).get(path).set('Authorization', bearer);
      expect(`${path} ${res.status}`).toBe(`${path} 200`);
      return res.body.data;
    };
    expect((await get('/api/admin/orders', admin)).pagination.total).toBeGreaterThan(200);
    const payouts = (await get('/api/admin/payouts', admin)).payouts as Array<{ status: string }>;
    expect(payouts.map((payout) => payout.status)).toEqual(expect.arrayContaining(['paid', 'pending']));
    expect((await get('/api/admin/stats/overview', admin)).orderCount).toBeGreaterThan(0);
    const customer = await as('demo.customer@example.com', customerPassword!);
    const own = (await get('/api/orders', customer)).orders as Array<{ status: string }>;
    expect(new Set(own.map((order) => order.status))).toEqual(new Set(['pending', 'confirmed', 'shipped', 'delivered', 'cancelled', 'refunded']));
    const seller = await as('demo.seller-2@example.com', sellerPassword!);
    expect((await get('/api/seller/orders', seller)).orders.length).toBeGreaterThan(0);
    expect(Number((await get('/api/seller/stats', seller)).grossRevenue)).toBeGreaterThan(0);
    const reviewed = await request(ctx.app).get('/api/products?sortBy=averageRating&sortOrder=desc&limit=1');
    expect(reviewed.body.data.products[0].reviewCount).toBeGreaterThan(0);
    // Pricing: the sellers' rates, the tax rates, and a live code the demo customer can use.
    expect((await get('/api/seller/shipping-rates', seller)).shippingRates.length).toBeGreaterThan(0);
    expect((await get('/api/admin/tax-rates', admin)).taxRates.length).toBeGreaterThan(0);
    // The demo's stock is random: some variants have none, so the cart takes one that has.
    const [product] = (await get('/api/products?inStock=true&limit=1', customer)).products as Array<{ id: string }>;
    const detail = await get(`/api/products/${product.id}`, customer);
    const variant = (detail.variants as Array<{ id: string; stockQuantity: number }>).find((candidate) => candidate.stockQuantity > 0)!;
    await request(ctx.app).post('/api/cart/items').set('Authorization', customer).send({ variantId: variant.id, quantity: 1 }).expect(201);
    const applied = await request(ctx.app).post('/api/cart/promo').set('Authorization', customer).send({ code: 'WELCOME10' });
    expect([applied.status, applied.body.data?.cart?.promoCode]).toEqual([200, 'WELCOME10']);
    const quoted = await request(ctx.app).post('/api/cart/quote').set('Authorization', customer).send({ shippingAddress: { country: 'US', state: 'CA' } });
    expect(quoted.status).toBe(200);
    expect(Number(quoted.body.data.discountAmount)).toBeGreaterThan(0);
    expect(Number(quoted.body.data.taxAmount)).toBeGreaterThan(0);

    // npm run seed:undo takes it back, the pricing and the activity first, then the accounts and the catalog.
    for (let step = 0; step < 3; step += 1) {
      const undo = await run('src/cli/seed.ts', ['down'], ctx.db.name);
      expect(undo).toEqual({ code: 0, output: expect.stringContaining('Reverted') });
    }
    expect(await User.count({ where: { email: ['demo.admin@example.com', 'demo.customer@example.com', 'demo.seller-1@example.com'] } })).toBe(0);
  }, 120_000);
});
