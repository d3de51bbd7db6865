import request from 'supertest';
import { createAdmin, createProduct, uniqueSuffix } from '../fixtures';
import { useTestApp } from '../support/app';
import { login, signedInUser } from '../support/auth';
import { signedInSeller } from '../support/catalog';
import { ADDRESS } from '../support/orders';
import { outboxFor } from '../support/outbox';
import { Product } from '../../src/models';


/**
 * The storefront flow over HTTP: a guest fills a cart, registers (the cart follows), places the
 * order, an admin records the manual payment, the two sellers ship their lines, the order is
 * delivered, and the customer's review shows in the product's rating.
 */
describe('storefront journey', () => {
  const ctx = useTestApp();

  it('goes from a guest cart to a delivered, reviewed order', async () => {
    const sellerA = await signedInSeller(ctx.app);
    const sellerB = await signedInSeller(ctx.app);
    const mug = await createProduct({ sellerId: sellerA.user.id, name: 'Blue Mug', price: '12.50', stockQuantity: 5, lowStockThreshold: 3 });
    const tea = await createProduct({ sellerId: sellerB.user.id, name: 'Green Tea', price: '7.25', stockQuantity: 10 });
    const admin = await createAdmin();
    const adminTokens = await login(ctx.app, admin.email);

    // Browse, then a guest cart.
    const listed = await request(ctx.app).get('/api/products').query({ sellerId: sellerA.user.id });
    expect(listed.body.data.products.map((product: { id: string }) => product.id)).toContain(mug.id);
    const created = await request(ctx.app).post('/api/cart');
    expect(created.status).toBe(201);
    const cartToken: string = created.body.data.cartToken;
    expect(cartToken).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    const added = await request(ctx.app).post('/api/cart/items').set('X-Cart-Token', cartToken).send({ productId: mug.id, quantity: 2 });
    expect(added.status).toBe(201);
    await request(ctx.app).post('/api/cart/items').set('X-Cart-Token', cartToken).send({ productId: tea.id, quantity: 1 }).expect(201);
    const guestCart = await request(ctx.app).get('/api/cart').set('X-Cart-Token', cartToken);
    expect(guestCart.body.data.cart).toMatchObject({ itemCount: 3, subtotal: '32.25' });

    // Register with the cart token: the cart is now the customer's, the token is retired.
    const email = `journey-${uniqueSuffix()}@example.test`;
    const registered = await request(ctx.app)
      .post('/api/auth/register')
      .set('X-Cart-Token', cartToken)
      .send({ email, password: 'Journey-Passw0rd!', name: 'Ada Lovelace' });
    expect(registered.status).toBe(201);
    const bearer = `Bearer ${registered.body.data.accessToken}`;
    const merged = await request(ctx.app).get('/api/cart').set('Authorization', bearer);
    expect(merged.body.data.cart).toMatchObject({ itemCount: 3, subtotal: '32.25' });
    expect((await request(ctx.app).get('/api/cart').set('X-Cart-Token', cartToken)).status).toBe(404);

    // Checkout.
    const placed = await request(ctx.app).post('/api/orders').set('Authorization', bearer).send({ shippingAddress: ADDRESS });
    expect(placed.status).toBe(201);
    const order = placed.body.data;
    expect(order).toMatchObject({ status: 'pending', paymentStatus: 'unpaid', subtotal: '32.25', totalAmount: '32.25', currency: 'usd' });
    expect(order.orderNumber).toMatch(/^ORD-\d{8}-[A-Z0-9]{6}$/);
    expect(order.items).toHaveLength(2);
    expect((await Product.findByPk(mug.id))?.stockQuantity).toBe(3);
    expect((await request(ctx.app).get('/api/cart').set('Authorization', bearer)).body.data.cart.items).toEqual([]);

    // The low-stock mail went to seller A (3 left, threshold 3), once.
    await ctx.jobsIdle();
    expect(outboxFor(sellerA.user.email).filter((mail) => mail.subject === 'Low stock: Blue Mug')).toHaveLength(1);

    // Manual payment.
    const intent = await request(ctx.app).post('/api/payments/create-intent').set('Authorization', bearer).send({ orderId: order.id });
    expect(intent.body.data).toMatchObject({ provider: 'manual', amount: '32.25', currency: 'usd' });
    const paid = await request(ctx.app).post(`/api/admin/orders/${order.id}/mark-paid`).set('Authorization', `Bearer ${adminTokens.accessToken}`).send({ reference: 'BANK-1' });
    expect(paid.status).toBe(200);
    expect(paid.body.data).toMatchObject({ status: 'confirmed', paymentStatus: 'paid', amountPaid: '32.25' });
    await ctx.jobsIdle();
    expect(outboxFor(email).filter((mail) => /confirmed/.test(mail.subject))).toHaveLength(1);

    // Each seller sees only their line, and ships it.
    const sellerView = await request(ctx.app).get(`/api/seller/orders/${order.id}`).set('Authorization', sellerA.bearer);
    expect(sellerView.body.data.items.map((item: { sellerId: string }) => item.sellerId)).toEqual([sellerA.user.id]);
    expect(JSON.stringify(sellerView.body.data)).not.toContain(email);
    const shippedA = await request(ctx.app)
      .patch(`/api/seller/orders/${order.id}/items/fulfil`)
      .set('Authorization', sellerA.bearer)
      .send({ trackingNumber: 'TRACK-A', trackingUrl: 'https://track.example/A' });
    expect(shippedA.status).toBe(200);
    expect(shippedA.body.data.status).toBe('confirmed');
    const shippedB = await request(ctx.app).patch(`/api/seller/orders/${order.id}/items/fulfil`).set('Authorization', sellerB.bearer).send({ trackingNumber: 'TRACK-B' });
    expect(shippedB.body.data.status).toBe('shipped');
    await ctx.jobsIdle();
    const shippingMails = outboxFor(email).filter((mail) => /has shipped/.test(mail.subject));
    expect(shippingMails).toHaveLength(1);
    expect(shippingMails[0].raw).toContain('TRACK-A');
    expect(shippingMails[0].raw).toContain('TRACK-B');

    // Delivered; then the review counts in the rating.
    const delivered = await request(ctx.app)
      .patch(`/api/admin/orders/${order.id}/status`)
      .set('Authorization', `Bearer ${adminTokens.accessToken}`)
      .send({ status: 'delivered' });
    expect(delivered.body.data.status).toBe('delivered');
    const review = await request(ctx.app).post(`/api/products/${mug.id}/reviews`).set('Authorization', bearer).send({ rating: 4, comment: 'Holds a lot of tea.' });
    expect(review.status).toBe(201);
    const product = await request(ctx.app).get(`/api/products/${mug.id}`);
    expect(product.body.data).toMatchObject({ averageRating: 4, reviewCount: 1 });

    const history = await request(ctx.app).get(`/api/orders/${order.id}/history`).set('Authorization', bearer);
    expect(history.body.data.history.map((entry: { status: string }) => entry.status)).toEqual(['pending', 'confirmed', 'shipped', 'delivered']);
    expect(history.body.data.history[1].actor).toEqual({ id: admin.id, role: 'admin' });
  });

  it('merges a guest cart into an existing cart at login, capped by stock', async () => {
    const customer = await signedInUser(ctx.app);
    const product = await createProduct({ stockQuantity: 4 });
    await request(ctx.app).post('/api/cart/items').set('Authorization', customer.bearer).send({ productId: product.id, quantity: 3 }).expect(201);
    const guest = (await request(ctx.app).post('/api/cart')).body.data.cartToken as string;
    await request(ctx.app).post('/api/cart/items').set('X-Cart-Token', guest).send({ productId: product.id, quantity: 2 }).expect(201);

    const signed = await request(ctx.app).post('/api/auth/login').set('X-Cart-Token', guest).send({ email: customer.user.email, password: 'Password123!' });
    expect(signed.status).toBe(200);
    const cart = (await request(ctx.app).get('/api/cart').set('Authorization', customer.bearer)).body.data.cart;
    expect(cart.items).toHaveLength(1);
    expect(cart.items[0].quantity).toBe(4);
  });
});
