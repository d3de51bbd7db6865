import { QueryTypes } from 'sequelize';
import request from 'supertest';
import { createMigrator } from '../../src/platform/db/migrator';
import { createSeller, createUser } from '../fixtures';
import { useTestApp } from '../support/app';
import { login } from '../support/auth';
import { ADDRESS } from '../support/orders';

/**
 * Migration 0012 on a database that has products, carts, orders and reviews from before
 * variants: each product becomes a product with one default variant, and everything stays
 * readable and sellable through the API.
 */
describe('migration 0012: products become products with one default variant', () => {
  const ctx = useTestApp();

  async function run(sql: string, bind: Record<string, unknown> = {}): Promise<Array<Record<string, unknown>>> {
    return ctx.db.sequelize.query<Record<string, unknown>>(sql, { bind, type: QueryTypes.SELECT });
  }

  it('keeps products, carts, orders and reviews working', async () => {
    const migrator = createMigrator(ctx.db.sequelize);
    await migrator.down({ to: '0012-product-variants' });

    const { user: seller } = await createSeller();
    const buyer = await createUser();
    const reviewer = await createUser();
    const [mug] = await run(
      `INSERT INTO products (seller_id, name, slug, price, compare_price, cost_price, sku, stock_quantity, low_stock_threshold, status)
       VALUES ($sellerId, 'Old Mug', 'old-mug', 12.50, 15.00, 4.00, 'OLD-MUG', 8, 3, 'active') RETURNING id`,
      { sellerId: seller.id },
    );
    const [gone] = await run(
      `INSERT INTO products (seller_id, name, slug, price, sku, stock_quantity, status, deleted_at)
       VALUES ($sellerId, 'Old Gone', 'old-gone', 5.00, 'OLD-MUG', 1, 'active', now()) RETURNING id`,
      { sellerId: seller.id },
    );
    const [cart] = await run('INSERT INTO carts (user_id) VALUES ($userId) RETURNING id', { userId: buyer.id });
    await run('INSERT INTO cart_items (cart_id, product_id, quantity) VALUES ($cartId, $productId, 2)', { cartId: cart.id, productId: mug.id });
    // Raw SQL: the models describe the latest schema.
    const [order] = await run(
      `INSERT INTO orders (order_number, user_id, subtotal, total_amount, shipping_address)
       VALUES ('ORD-20261201-OLDMUG', $userId, 12.50, 12.50, $address::jsonb) RETURNING id`,
      { userId: buyer.id, address: JSON.stringify(ADDRESS) },
    );
    await run(
      `INSERT INTO order_items (order_id, product_id, seller_id, product_name, product_sku, unit_price, quantity, line_total, commission_rate,
                                fulfillment_status, shipped_at, delivered_at)
       VALUES ($orderId, $productId, $sellerId, 'Old Mug', 'OLD-MUG', 12.50, 1, 12.50, 0.1, 'delivered', now(), now())`,
      { orderId: order.id, productId: mug.id, sellerId: seller.id },
    );
    await run(`INSERT INTO reviews (product_id, user_id, rating, comment) VALUES ($productId, $userId, 4, 'A good mug from before variants')`, {
      productId: mug.id,
      userId: reviewer.id,
    });

    await migrator.up();

    const shown = await request(ctx.app).get('/api/products/old-mug');
    expect(shown.status).toBe(200);
    expect(shown.body.data).toMatchObject({ price: '12.50', priceMin: '12.50', priceMax: '12.50', comparePrice: '15.00', stockQuantity: 8, sku: 'OLD-MUG', options: [] });
    expect(shown.body.data.variants).toEqual([
      expect.objectContaining({ sku: 'OLD-MUG', title: 'Default', options: {}, price: '12.50', comparePrice: '15.00', stockQuantity: 8, status: 'active' }),
    ]);
    const [deletedVariant] = await run('SELECT deleted_at FROM product_variants WHERE product_id = $id', { id: gone.id });
    expect(deletedVariant.deleted_at).not.toBeNull();

    const bearer = `Bearer ${(await login(ctx.app, buyer.email)).accessToken}`;
    const mine = await request(ctx.app).get(`/api/orders/${order.id}`).set('Authorization', bearer);
    expect(mine.status).toBe(200);
    expect(mine.body.data.items[0]).toMatchObject({ productId: mug.id, variantId: shown.body.data.variants[0].id, variantTitle: 'Default', productSku: 'OLD-MUG' });
    const reviews = await request(ctx.app).get(`/api/products/${mug.id}/reviews`);
    expect(reviews.body.data.reviews).toHaveLength(1);

    // The cart line of before is the default variant's; it checks out and takes the variant's stock.
    const cartView = await request(ctx.app).get('/api/cart').set('Authorization', bearer);
    expect(cartView.body.data.cart.items[0]).toMatchObject({ quantity: 2, available: true, variant: { sku: 'OLD-MUG', title: 'Default' } });
    const placed = await request(ctx.app).post('/api/orders').set('Authorization', bearer).send({ shippingAddress: ADDRESS });
    expect(placed.status).toBe(201);
    expect(placed.body.data.totalAmount).toBeDefined();
    const after = await request(ctx.app).get(`/api/products/${mug.id}`);
    expect(after.body.data).toMatchObject({ stockQuantity: 6 });
    expect(after.body.data.variants[0].stockQuantity).toBe(6);

    // A client that never sends variantId still adds the product; the SKU stays unique within the seller's catalog.
    expect((await request(ctx.app).post('/api/cart/items').set('Authorization', bearer).send({ productId: mug.id, quantity: 1 })).status).toBe(201);
    const sellerBearer = `Bearer ${(await login(ctx.app, seller.email)).accessToken}`;
    const clash = await request(ctx.app).post('/api/products').set('Authorization', sellerBearer).send({ name: 'New Mug', price: '9.00', sku: 'OLD-MUG' });
    expect([clash.status, clash.body.error.code]).toEqual([409, 'SKU_EXISTS']);

    // And back down and up again with the data in place.
    await migrator.down({ to: '0012-product-variants' });
    const [old] = await run('SELECT sku, stock_quantity, price FROM products WHERE id = $id', { id: mug.id });
    expect(old).toEqual({ sku: 'OLD-MUG', stock_quantity: 6, price: '12.50' });
    await migrator.up();
  });
});
