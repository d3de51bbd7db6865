import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { QueryTypes } from 'sequelize';
import request from 'supertest';
import { Cart, CartItem, Product, ProductVariant } from '../../src/models';
import { createAdmin, createOrder, createOrderItem, createUser, uniqueSuffix } from '../fixtures';
import { useTestApp } from '../support/app';
import { login } from '../support/auth';
import { signedInSeller, type SignedInSeller } from '../support/catalog';
import { ADDRESS } from '../support/orders';

/** A T-shirt in three sizes and two colours, each variant with its own SKU, price and stock. */
function teeBody(overrides: Record<string, unknown> = {}) {
  const suffix = uniqueSuffix().toUpperCase();
  return {
    name: `Organic Tee ${suffix}`,
    description: 'A heavyweight T-shirt of organic cotton.',
    status: 'active',
    options: [
      { name: 'Size', values: ['S', 'M', 'L'] },
      { name: 'Color', values: ['Navy', 'Red'] },
    ],
    variants: [
      { sku: `TEE-${suffix}-S-NAVY`, options: { Size: 'S', Color: 'Navy' }, price: '20.00', stockQuantity: 5 },
      { sku: `TEE-${suffix}-M-NAVY`, options: { Size: 'M', Color: 'Navy' }, price: '22.00', comparePrice: '30.00', stockQuantity: 0 },
      { sku: `TEE-${suffix}-L-RED`, options: { Size: 'L', Color: 'Red' }, price: '24.50', stockQuantity: 7, costPrice: '9.00' },
    ],
    ...overrides,
  };
}

describe('product options and variants', () => {
  const ctx = useTestApp();
  let seller: SignedInSeller;
  let otherSeller: SignedInSeller;
  let server: Server;
  let base: string;

  beforeAll(async () => {
    seller = await signedInSeller(ctx.app);
    otherSeller = await signedInSeller(ctx.app);
    server = ctx.app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  function create(body: Record<string, unknown>, bearer = seller.bearer) {
    return request(ctx.app).post('/api/products').set('Authorization', bearer).send(body);
  }

  async function customer() {
    const user = await createUser();
    return { user, bearer: `Bearer ${(await login(ctx.app, user.email)).accessToken}` };
  }

  async function rows<T extends object>(sql: string, bind: Record<string, unknown> = {}): Promise<T[]> {
    return ctx.db.sequelize.query<T>(sql, { bind, type: QueryTypes.SELECT });
  }

  it('creates a product with its options and variants in one request, priced from its active variants', async () => {
    const res = await create(teeBody());
    expect(res.status).toBe(201);
    const product = res.body.data;
    expect(product).toMatchObject({
      price: '20.00',
      priceMin: '20.00',
      priceMax: '24.50',
      comparePrice: null,
      stockQuantity: 12,
      inStock: true,
      status: 'active',
      sku: null,
      options: [
        { name: 'Size', values: ['S', 'M', 'L'] },
        { name: 'Color', values: ['Navy', 'Red'] },
      ],
    });
    expect(product.variants.map((variant: { title: string; inStock: boolean }) => [variant.title, variant.inStock])).toEqual([
      ['S / Navy', true],
      ['M / Navy', false],
      ['L / Red', true],
    ]);
    expect(product.variants[2]).toMatchObject({ costPrice: '9.00', lowStockThreshold: 10, status: 'active', images: [] });

    // The public sees active variants without their cost price.
    const shown = await request(ctx.app).get(`/api/products/${product.slug}`);
    expect(shown.status).toBe(200);
    expect(shown.body.data.variants).toHaveLength(3);
    expect(shown.body.data.variants[0]).not.toHaveProperty('costPrice');
    expect(shown.body.data).not.toHaveProperty('costPrice');
  });

  it('keeps a client that never heard of variants working: one default variant from the product fields', async () => {
    const sku = `PLAIN-${uniqueSuffix().toUpperCase()}`;
    const res = await create({ name: 'Plain Mug', price: '12.00', sku, stockQuantity: 4, status: 'active' });
    expect(res.status).toBe(201);
    expect(res.body.data).toMatchObject({ sku, price: '12.00', priceMax: '12.00', stockQuantity: 4, options: [] });
    expect(res.body.data.variants).toEqual([expect.objectContaining({ sku, title: 'Default', options: {}, price: '12.00', stockQuantity: 4 })]);

    const patched = await request(ctx.app).patch(`/api/products/${res.body.data.id}`).set('Authorization', seller.bearer).send({ price: '13.50', stockQuantity: 9 });
    expect(patched.status).toBe(200);
    expect(patched.body.data).toMatchObject({ price: '13.50', stockQuantity: 9 });
    expect(patched.body.data.variants[0]).toMatchObject({ price: '13.50', stockQuantity: 9 });

    const buyer = await customer();
    const added = await request(ctx.app).post('/api/cart/items').set('Authorization', buyer.bearer).send({ productId: res.body.data.id, quantity: 2 });
    expect(added.status).toBe(201);
    expect(added.body.data.cart.items[0]).toMatchObject({ unitPrice: '13.50', variant: { sku, title: 'Default', options: {} }, available: true });
  });

  it('refuses bad variant sets with the contract codes and writes nothing', async () => {
    const before = await Product.count({ paranoid: false });
    const variantsBefore = await ProductVariant.count({ paranoid: false });
    const body = teeBody();
    const [first, second] = body.variants;
    const cases: Array<[Record<string, unknown>, number, string]> = [
      [{ variants: [{ ...first, options: { Size: 'S', Colour: 'Navy' } }] }, 400, 'VARIANT_OPTIONS_MISMATCH'],
      [{ variants: [{ ...first, options: { Size: 'XXL', Color: 'Navy' } }] }, 400, 'VARIANT_OPTIONS_MISMATCH'],
      [{ variants: [{ ...first, options: { Size: 'S' } }] }, 400, 'VARIANT_OPTIONS_MISMATCH'],
      [{ variants: [first, { ...second, options: first.options }] }, 409, 'VARIANT_EXISTS'],
      [{ variants: [first, { ...second, sku: first.sku }] }, 409, 'SKU_EXISTS'],
      [{ options: [...body.options, { name: 'Fit', values: ['Slim'] }, { name: 'Sleeve', values: ['Long'] }] }, 400, 'VALIDATION_ERROR'],
      [{ options: [{ name: 'Size', values: ['S'] }, { name: 'Size', values: ['M'] }] }, 400, 'VALIDATION_ERROR'],
      [{ options: [{ name: 'Size', values: ['S', 'S'] }] }, 400, 'VALIDATION_ERROR'],
      [{ options: [{ name: 'Size', values: Array.from({ length: 51 }, (_, i) => `V${i}`) }] }, 400, 'VALIDATION_ERROR'],
      [{ options: [{ name: 'N', values: Array.from({ length: 50 }, (_, i) => `V${i}`) }], variants: Array.from({ length: 101 }, (_, i) => ({ sku: `MANY-${i}`, options: { N: `V${i % 50}` }, price: '5.00' })) }, 400, 'VALIDATION_ERROR'],
      [{ variants: [] }, 400, 'VALIDATION_ERROR'],
      [{ price: '10.00' }, 400, 'VALIDATION_ERROR'],
      [{ variants: [{ ...first, price: '-1.00' }] }, 400, 'VALIDATION_ERROR'],
      [{ variants: [{ ...first, comparePrice: '19.00' }] }, 400, 'VALIDATION_ERROR'],
      [{ variants: undefined }, 400, 'VALIDATION_ERROR'],
    ];
    for (const [overrides, status, code] of cases) {
      const res = await create({ ...body, ...overrides });
      expect([overrides, res.status, res.body.error?.code]).toEqual([overrides, status, code]);
    }
    // A SKU another product of the seller uses, as one of the variants.
    const taken = await create(teeBody());
    const clash = await create(teeBody({ variants: [{ ...first, sku: taken.body.data.variants[1].sku }] }));
    expect(clash.status).toBe(409);
    expect(clash.body.error.code).toBe('SKU_EXISTS');
    // Another seller may use it.
    expect((await create(teeBody({ variants: [{ ...first, sku: taken.body.data.variants[1].sku }] }), otherSeller.bearer)).status).toBe(201);
    expect(await Product.count({ paranoid: false })).toBe(before + 2);
    expect(await ProductVariant.count({ paranoid: false })).toBe(variantsBefore + 4);
  });

  it('adds, changes and soft-deletes variants, keeping the product in step; the last active one stays', async () => {
    const product = (await create(teeBody())).body.data;
    const url = `/api/products/${product.id}/variants`;
    const added = await request(ctx.app).post(url).set('Authorization', seller.bearer).send({ sku: `${product.variants[0].sku}-X`, options: { Size: 'M', Color: 'Red' }, price: '18.00', stockQuantity: 3 });
    expect(added.status).toBe(201);
    expect(added.body.data).toMatchObject({ title: 'M / Red', price: '18.00', stockQuantity: 3, status: 'active' });

    const unknown = await request(ctx.app).post(url).set('Authorization', seller.bearer).send({ sku: 'NEW-1', options: { Size: 'XL', Color: 'Red' }, price: '18.00' });
    expect([unknown.status, unknown.body.error.code]).toEqual([400, 'VARIANT_OPTIONS_MISMATCH']);
    const twin = await request(ctx.app).post(url).set('Authorization', seller.bearer).send({ sku: 'NEW-2', options: { Size: 'M', Color: 'Red' }, price: '18.00' });
    expect([twin.status, twin.body.error.code]).toEqual([409, 'VARIANT_EXISTS']);
    const foreign = await request(ctx.app).post(url).set('Authorization', otherSeller.bearer).send({ sku: 'NEW-3', options: { Size: 'S', Color: 'Red' }, price: '18.00' });
    expect([foreign.status, foreign.body.error.code]).toEqual([403, 'RESOURCE_ACCESS_DENIED']);

    let shown = (await request(ctx.app).get(`/api/products/${product.id}`)).body.data;
    expect(shown).toMatchObject({ price: '18.00', priceMax: '24.50', stockQuantity: 15 });

    // A new value comes in through the product's options, then a variant can use it.
    const extended = await request(ctx.app)
      .patch(`/api/products/${product.id}`)
      .set('Authorization', seller.bearer)
      .send({ options: [{ name: 'Size', values: ['S', 'M', 'L', 'XL'] }, { name: 'Color', values: ['Navy', 'Red'] }] });
    expect(extended.status).toBe(200);
    const dropped = await request(ctx.app).patch(`/api/products/${product.id}`).set('Authorization', seller.bearer).send({ options: [{ name: 'Size', values: ['S'] }] });
    expect([dropped.status, dropped.body.error.code]).toEqual([400, 'VARIANT_OPTIONS_MISMATCH']);
    const several = await request(ctx.app).patch(`/api/products/${product.id}`).set('Authorization', seller.bearer).send({ price: '10.00' });
    expect([several.status, several.body.error.code]).toEqual([400, 'VARIANT_REQUIRED']);

    const cheap = product.variants[0];
    const changed = await request(ctx.app).patch(`${url}/${cheap.id}`).set('Authorization', seller.bearer).send({ options: { Size: 'XL', Color: 'Navy' }, price: '30.00', stockQuantity: 1 });
    expect(changed.status).toBe(200);
    expect(changed.body.data).toMatchObject({ title: 'XL / Navy', price: '30.00', stockQuantity: 1 });
    shown = (await request(ctx.app).get(`/api/products/${product.id}`)).body.data;
    expect(shown).toMatchObject({ price: '18.00', priceMax: '30.00', stockQuantity: 11 });

    const missing = await request(ctx.app).patch(`${url}/${ProductVariantIdThatDoesNotExist}`).set('Authorization', seller.bearer).send({ price: '1.00' });
    expect([missing.status, missing.body.error.code]).toEqual([404, 'VARIANT_NOT_FOUND']);

    // Deleting frees the SKU; the last active variant cannot go, nor be made inactive.
    const ids: string[] = [...shown.variants.map((variant: { id: string }) => variant.id)];
    for (const id of ids.slice(1)) expect((await request(ctx.app).delete(`${url}/${id}`).set('Authorization', seller.bearer)).status).toBe(200);
    const last = await request(ctx.app).delete(`${url}/${ids[0]}`).set('Authorization', seller.bearer);
    expect([last.status, last.body.error.code]).toEqual([409, 'LAST_VARIANT']);
    const inactive = await request(ctx.app).patch(`${url}/${ids[0]}`).set('Authorization', seller.bearer).send({ status: 'inactive' });
    expect([inactive.status, inactive.body.error.code]).toEqual([409, 'LAST_VARIANT']);
    shown = (await request(ctx.app).get(`/api/products/${product.id}`)).body.data;
    expect(shown.variants).toHaveLength(1);
    expect(shown).toMatchObject({ price: '30.00', priceMax: '30.00', stockQuantity: 1, sku: shown.variants[0].sku });
    const reused = await request(ctx.app).post(url).set('Authorization', seller.bearer).send({ sku: product.variants[2].sku, options: { Size: 'L', Color: 'Red' }, price: '24.50' });
    expect(reused.status).toBe(201);
  });

  it('asks for a variant when the product has several, and refuses a withdrawn variant at checkout', async () => {
    const product = (await create(teeBody())).body.data;
    const buyer = await customer();
    const cart = (body: Record<string, unknown>) => request(ctx.app).post('/api/cart/items').set('Authorization', buyer.bearer).send(body);
    expect((await cart({ productId: product.id, quantity: 1 })).body.error.code).toBe('VARIANT_REQUIRED');
    const foreignVariant = (await create(teeBody())).body.data.variants[0].id;
    expect((await cart({ productId: product.id, variantId: foreignVariant, quantity: 1 })).status).toBe(404);
    expect((await cart({ variantId: product.variants[1].id, quantity: 1 })).body.error.code).toBe('INSUFFICIENT_STOCK');
    const added = await cart({ variantId: product.variants[2].id, quantity: 2 });
    expect(added.status).toBe(201);
    expect(added.body.data.cart).toMatchObject({ subtotal: '49.00', itemCount: 2 });
    expect(added.body.data.cart.items[0]).toMatchObject({ unitPrice: '24.50', lineTotal: '49.00', variant: { id: product.variants[2].id, title: 'L / Red', options: { Size: 'L', Color: 'Red' } } });
    // The same variant again adds up; another variant is a line of its own.
    expect((await cart({ variantId: product.variants[2].id, quantity: 1 })).body.data.cart.items[0].quantity).toBe(3);
    expect((await cart({ variantId: product.variants[0].id, quantity: 1 })).body.data.cart.items).toHaveLength(2);

    await request(ctx.app).patch(`/api/products/${product.id}/variants/${product.variants[0].id}`).set('Authorization', seller.bearer).send({ status: 'inactive' });
    const shown = await request(ctx.app).get('/api/cart').set('Authorization', buyer.bearer);
    expect(shown.body.data.cart.items.map((item: { available: boolean }) => item.available)).toEqual([true, false]);
    expect(shown.body.data.cart.subtotal).toBe('73.50');
    const refused = await request(ctx.app).post('/api/orders').set('Authorization', buyer.bearer).send({ shippingAddress: ADDRESS });
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('PRODUCT_UNAVAILABLE');
    expect(refused.body.error.details).toEqual([{ productId: product.id, variantId: product.variants[0].id, name: product.name }]);
  });

  it('snapshots the variant in the order line; a later price change leaves the order alone', async () => {
    const product = (await create(teeBody())).body.data;
    const variant = product.variants[2];
    const buyer = await customer();
    await request(ctx.app).post('/api/cart/items').set('Authorization', buyer.bearer).send({ variantId: variant.id, quantity: 2 });
    const placed = await request(ctx.app).post('/api/orders').set('Authorization', buyer.bearer).send({ shippingAddress: ADDRESS });
    expect(placed.status).toBe(201);
    expect(placed.body.data.items[0]).toMatchObject({ productId: product.id, variantId: variant.id, variantTitle: 'L / Red', productSku: variant.sku, unitPrice: '24.50', lineTotal: '49.00' });
    expect(placed.body.data.subtotal).toBe('49.00');

    await request(ctx.app).patch(`/api/products/${product.id}/variants/${variant.id}`).set('Authorization', seller.bearer).send({ price: '99.00', sku: `${variant.sku}-NEW` });
    const order = await request(ctx.app).get(`/api/orders/${placed.body.data.id}`).set('Authorization', buyer.bearer);
    expect(order.body.data.items[0]).toMatchObject({ unitPrice: '24.50', productSku: variant.sku, variantTitle: 'L / Red' });
    expect(order.body.data.subtotal).toBe('49.00');
    const [stock] = await rows<{ stock_quantity: number }>('SELECT stock_quantity FROM product_variants WHERE id = $id', { id: variant.id });
    expect(stock.stock_quantity).toBe(5);

    // Cancelled, the units go back to the variant and to the product's total.
    const cancelled = await request(ctx.app).post(`/api/orders/${placed.body.data.id}/cancel`).set('Authorization', buyer.bearer).send({});
    expect(cancelled.status).toBe(200);
    const [back] = await rows<{ stock_quantity: number }>('SELECT stock_quantity FROM product_variants WHERE id = $id', { id: variant.id });
    expect(back.stock_quantity).toBe(7);
    expect((await request(ctx.app).get(`/api/products/${product.id}`)).body.data.stockQuantity).toBe(12);
  });

  it('sells the last 10 units of one variant to exactly 10 of 200 concurrent checkouts, leaving its sibling untouched', async () => {
    const product = (await create(teeBody({ variants: [
      { sku: `LAST-${uniqueSuffix()}`, options: { Size: 'S', Color: 'Navy' }, price: '20.00', stockQuantity: 10 },
      { sku: `SIB-${uniqueSuffix()}`, options: { Size: 'M', Color: 'Navy' }, price: '20.00', stockQuantity: 40 },
    ] }))).body.data;
    const [hot, sibling] = product.variants;
    const bearers: string[] = [];
    for (let start = 0; start < 200; start += 25) {
      bearers.push(
        ...(await Promise.all(
          Array.from({ length: 25 }, async () => {
            const user = await createUser();
            const cartRow = await Cart.create({ userId: user.id, tokenHash: null, expiresAt: null });
            await CartItem.create({ cartId: cartRow.id, productId: product.id, variantId: hot.id, quantity: 1 });
            return `Bearer ${(await login(ctx.app, user.email)).accessToken}`;
          }),
        )),
      );
    }
    const answers = await Promise.all(bearers.map((bearer) => request(base).post('/api/orders').set('Authorization', bearer).send({ shippingAddress: ADDRESS })));
    expect(answers.filter((answer) => answer.status === 201)).toHaveLength(10);
    const refused = answers.filter((answer) => answer.status === 409);
    expect(refused).toHaveLength(190);
    for (const answer of refused) expect(answer.body.error.details).toEqual([{ productId: product.id, variantId: hot.id, name: product.name, requested: 1, available: 0 }]);
    const variants = await rows<{ id: string; stock_quantity: number }>('SELECT id, stock_quantity FROM product_variants WHERE product_id = $id', { id: product.id });
    expect(Object.fromEntries(variants.map((row) => [row.id, row.stock_quantity]))).toEqual({ [hot.id]: 0, [sibling.id]: 40 });
    const [stored] = await rows<{ stock_quantity: number; status: string }>('SELECT stock_quantity, status FROM products WHERE id = $id', { id: product.id });
    expect(stored).toEqual({ stock_quantity: 40, status: 'active' });
    const [{ n }] = await rows<{ n: number }>('SELECT count(*)::int AS n FROM order_items WHERE variant_id = $id', { id: hot.id });
    expect(n).toBe(10);
  }, 90_000);

  it('keeps the product in step with its variants while checkouts and variant changes run at once', async () => {
    const product = (await create(teeBody({ variants: [
      { sku: `RACE-A-${uniqueSuffix()}`, options: { Size: 'S', Color: 'Navy' }, price: '20.00', stockQuantity: 30 },
      { sku: `RACE-B-${uniqueSuffix()}`, options: { Size: 'M', Color: 'Navy' }, price: '21.00', stockQuantity: 30 },
    ] }))).body.data;
    const [a, b] = product.variants;
    const bearers = await Promise.all(
      Array.from({ length: 40 }, async (_, i) => {
        const user = await createUser();
        const cartRow = await Cart.create({ userId: user.id, tokenHash: null, expiresAt: null });
        await CartItem.create({ cartId: cartRow.id, productId: product.id, variantId: i % 2 === 0 ? a.id : b.id, quantity: 1 });
        return `Bearer ${(await login(ctx.app, user.email)).accessToken}`;
      }),
    );
    const url = `${base}/api/products/${product.id}/variants`;
    const changes = [
      ...Array.from({ length: 5 }, (_, i) => request(url).patch(`/${a.id}`).set('Authorization', seller.bearer).send({ price: `${20 + i}.00` })),
      ...Array.from({ length: 5 }, (_, i) => request(url).patch(`/${b.id}`).set('Authorization', seller.bearer).send({ stockQuantity: 40 + i })),
      request(url).post('').set('Authorization', seller.bearer).send({ sku: `RACE-C-${uniqueSuffix()}`, options: { Size: 'L', Color: 'Navy' }, price: '19.00', stockQuantity: 7 }),
    ];
    const checkouts = bearers.map((bearer) => request(base).post('/api/orders').set('Authorization', bearer).send({ shippingAddress: ADDRESS }));
    const answers = await Promise.all([...changes, ...checkouts]);
    expect(answers.filter((answer) => answer.status >= 500).map((answer) => answer.body)).toEqual([]);
    expect(answers.slice(changes.length).filter((answer) => answer.status === 201)).toHaveLength(40);
    const [consistency] = await rows<{ product: number; variants: number; price: string; price_max: string; low: string; high: string }>(
      `SELECT p.stock_quantity AS product, sum(v.stock_quantity)::int AS variants, p.price, p.price_max, min(v.price) AS low, max(v.price) AS high
         FROM products p JOIN product_variants v ON v.product_id = p.id AND v.status = 'active' AND v.deleted_at IS NULL
        WHERE p.id = $id GROUP BY p.id`,
      { id: product.id },
    );
    expect(consistency.product).toBe(consistency.variants);
    expect([consistency.price, consistency.price_max]).toEqual([consistency.low, consistency.high]);
  }, 60_000);

  it('filters the catalog by option values and counts facets for the current filters', async () => {
    const tag = uniqueSuffix();
    const bigSeller = await signedInSeller(ctx.app);
    const mk = (variants: Array<[string, string, string]>) =>
      create(
        teeBody({
          variants: variants.map(([size, color, price], i) => ({ sku: `F-${tag}-${uniqueSuffix()}-${i}`, options: { Size: size, Color: color }, price, stockQuantity: 3 })),
        }),
        bigSeller.bearer,
      );
    const a = (await mk([['S', 'Navy', '10.00'], ['M', 'Red', '12.00']])).body.data;
    const b = (await mk([['M', 'Navy', '15.00']])).body.data;
    const c = (await mk([['L', 'Red', '30.00']])).body.data;
    const list = async (query: Record<string, string>) =>
      (await request(ctx.app).get('/api/products').query({ sellerId: bigSeller.user.id, ...query })).body.data.products.map((p: { id: string }) => p.id).sort();
    expect(await list({ options: 'Size:M' })).toEqual([a.id, b.id].sort());
    // One variant must have both values: a has M (Red) and Navy (S), never M in Navy.
    expect(await list({ options: 'Size:M,Color:Navy' })).toEqual([b.id]);
    expect(await list({ options: 'Color:Red', minPrice: '20' })).toEqual([c.id]);
    const bad = await request(ctx.app).get('/api/products').query({ options: 'Size' });
    expect([bad.status, bad.body.error.code]).toEqual([400, 'VALIDATION_ERROR']);
    const rowOf = (await request(ctx.app).get('/api/products').query({ sellerId: bigSeller.user.id, sortBy: 'price' })).body.data.products[0];
    expect(rowOf).toMatchObject({ id: a.id, price: '10.00', priceMin: '10.00', priceMax: '12.00' });

    const facets = await request(ctx.app).get('/api/products/facets').query({ sellerId: bigSeller.user.id });
    expect(facets.status).toBe(200);
    expect(facets.body.data).toEqual({
      options: {
        Size: [{ value: 'M', count: 2 }, { value: 'L', count: 1 }, { value: 'S', count: 1 }],
        Color: [{ value: 'Navy', count: 2 }, { value: 'Red', count: 2 }],
      },
      price: { min: '10.00', max: '30.00' },
      categories: [],
    });
    const cheap = await request(ctx.app).get('/api/products/facets').query({ sellerId: bigSeller.user.id, maxPrice: '15' });
    expect(cheap.body.data.price).toEqual({ min: '10.00', max: '15.00' });
    expect(cheap.body.data.options.Color).toEqual([{ value: 'Navy', count: 2 }, { value: 'Red', count: 1 }]);
    const unknown = await request(ctx.app).get('/api/products/facets').query({ options: 'Size:M' });
    expect(unknown.status).toBe(400);
  });

  it('lets a customer who received any variant review the product, once', async () => {
    const product = (await create(teeBody())).body.data;
    const buyer = await customer();
    const order = await createOrder({ userId: buyer.user.id, status: 'delivered', paymentStatus: 'paid' });
    await createOrderItem({ orderId: order.id, productId: product.id, variantId: product.variants[2].id, variantTitle: 'L / Red', fulfillmentStatus: 'delivered' });
    const review = () => request(ctx.app).post(`/api/products/${product.id}/reviews`).set('Authorization', buyer.bearer).send({ rating: 5, comment: 'The large red one fits well.' });
    expect((await review()).status).toBe(201);
    expect((await review()).body.error.code).toBe('REVIEW_EXISTS');
  });

  it('tells why a cart refuses a variant: withdrawn, unknown, of a product not on sale, or without the stock', async () => {
    const buyer = await customer();
    const product = (await create(teeBody())).body.data;
    const [small, medium, large] = product.variants as Array<{ id: string }>;
    const add = (variantId: string, quantity = 1) => request(ctx.app).post('/api/cart/items').set('Authorization', buyer.bearer).send({ variantId, quantity });
    const refusal = async (variantId: string, quantity = 1) => {
      const res = await add(variantId, quantity);
      return [res.status, res.body.error?.code];
    };
    await request(ctx.app).delete(`/api/products/${product.id}/variants/${large.id}`).set('Authorization', seller.bearer).expect(200);
    expect(await refusal(large.id)).toEqual([404, 'VARIANT_NOT_FOUND']);
    expect(await refusal('00000000-0000-4000-8000-000000000000')).toEqual([404, 'VARIANT_NOT_FOUND']);
    expect(await refusal(medium.id)).toEqual([409, 'INSUFFICIENT_STOCK']);
    expect(await refusal(small.id, 6)).toEqual([409, 'INSUFFICIENT_STOCK']);
    expect((await add(small.id, 5)).status).toBe(201);
    await request(ctx.app).patch(`/api/products/${product.id}`).set('Authorization', seller.bearer).send({ status: 'draft' }).expect(200);
    expect(await refusal(small.id)).toEqual([404, 'PRODUCT_NOT_FOUND']);
  });

  it('lets an admin manage the variants of any seller', async () => {
    const admin = await createAdmin();
    const bearer = `Bearer ${(await login(ctx.app, admin.email)).accessToken}`;
    const product = (await create(teeBody())).body.data;
    const changed = await request(ctx.app).patch(`/api/products/${product.id}/variants/${product.variants[0].id}`).set('Authorization', bearer).send({ stockQuantity: 50 });
    expect(changed.status).toBe(200);
    expect(changed.body.data.stockQuantity).toBe(50);
  });
});

const ProductVariantIdThatDoesNotExist = '00000000-0000-4000-8000-000000000000';
