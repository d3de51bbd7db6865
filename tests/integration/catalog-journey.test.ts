import request from 'supertest';
import { createCategory, createOrder, createOrderItem } from '../fixtures';
import { useTestApp } from '../support/app';
import { signedInUser } from '../support/auth';
import { signedInSeller } from '../support/catalog';
import { IMAGES } from '../support/images';

/**
 * The catalog end to end: a seller uploads an image and lists a product with it; a visitor finds
 * it by category, by a word of its description and by slug; a customer who received it reviews
 * it, and the rating shows.
 */
describe('catalog journey', () => {
  const ctx = useTestApp();

  it('goes from an uploaded image to a reviewed, findable product', async () => {
    const seller = await signedInSeller(ctx.app);
    const parent = await createCategory({ name: 'Kitchenware' });
    const child = await createCategory({ name: 'Kettles', parentId: parent.id });

    const upload = await request(ctx.app).post('/api/upload/image').set('Authorization', seller.bearer).attach('image', IMAGES.png, 'kettle.png');
    expect(upload.status).toBe(201);
    expect(upload.body.data).toMatchObject({ format: 'png', width: 1, height: 1 });
    const served = await request(ctx.app).get(new URL(upload.body.data.url).pathname);
    expect(served.status).toBe(200);

    const created = await request(ctx.app)
      .post('/api/products')
      .set('Authorization', seller.bearer)
      .send({
        name: 'Copper Gooseneck Kettle',
        description: 'A hand-hammered copper kettle with a thermometer built into the lid, for slow pour-over coffee.',
        shortDescription: 'Copper pour-over kettle',
        price: '89.00',
        comparePrice: '119.00',
        sku: 'KETTLE-CU-1',
        stockQuantity: 25,
        status: 'active',
        categoryId: child.id,
        images: [upload.body.data.url],
        tags: ['coffee', 'copper'],
      });
    expect(created.status).toBe(201);
    const product = created.body.data;
    expect(product.images).toEqual([upload.body.data.url]);

    const byCategory = await request(ctx.app).get('/api/products').query({ category: parent.slug });
    expect(byCategory.body.data.products.map((p: { id: string }) => p.id)).toEqual([product.id]);

    const byWord = await request(ctx.app).get('/api/products/search').query({ q: 'thermometer' });
    expect(byWord.body.data.products.map((p: { id: string }) => p.id)).toContain(product.id);
    const byPrefix = await request(ctx.app).get('/api/products/search').query({ q: 'gooseneck kett' });
    expect(byPrefix.body.data.products.map((p: { id: string }) => p.id)).toContain(product.id);

    const bySlug = await request(ctx.app).get(`/api/products/${product.slug}`);
    expect(bySlug.status).toBe(200);
    expect(bySlug.body.data).toMatchObject({ id: product.id, discountPercentage: 25, inStock: true, seller: { id: seller.user.id } });
    expect(bySlug.body.data).not.toHaveProperty('costPrice');

    const customer = await signedInUser(ctx.app);
    const stranger = await signedInUser(ctx.app);
    const refused = await request(ctx.app).post(`/api/products/${product.id}/reviews`).set('Authorization', stranger.bearer).send({ rating: 5, comment: 'Looks nice' });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('REVIEW_NOT_ALLOWED');

    const order = await createOrder({ userId: customer.user.id, status: 'delivered', paymentStatus: 'paid' });
    await createOrderItem({ orderId: order.id, productId: product.id, fulfillmentStatus: 'delivered' });
    const review = await request(ctx.app)
      .post(`/api/products/${product.id}/reviews`)
      .set('Authorization', customer.bearer)
      .send({ rating: 4, title: 'Pours well', comment: 'Steady stream, lid thermometer is handy.' });
    expect(review.status).toBe(201);

    const after = await request(ctx.app).get(`/api/products/${product.slug}`);
    expect(after.body.data).toMatchObject({ averageRating: 4, reviewCount: 1 });
    const reviews = await request(ctx.app).get(`/api/products/${product.id}/reviews`);
    expect(reviews.body.data.reviews).toEqual([expect.objectContaining({ rating: 4, user: { id: customer.user.id, name: customer.user.name } })]);
  });
});
