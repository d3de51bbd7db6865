import request from 'supertest';
import { Product, Review, type User } from '../../src/models';
import { createOrder, createOrderItem, createProduct, createReview, createUser } from '../fixtures';
import { useTestApp } from '../support/app';
import { signedInUser, type SignedIn } from '../support/auth';

const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';

/** A delivered order of `customer` with one line for `product`, as checkout and fulfilment would leave it. */
async function deliveredPurchase(customer: User, product: Product, overrides: { orderStatus?: 'delivered' | 'shipped' | 'pending' | 'refunded'; itemStatus?: 'delivered' | 'shipped' | 'unfulfilled' } = {}) {
  const order = await createOrder({ userId: customer.id, status: overrides.orderStatus ?? 'delivered', paymentStatus: 'paid' });
  return createOrderItem({ orderId: order.id, productId: product.id, fulfillmentStatus: overrides.itemStatus ?? 'delivered' });
}

async function ratingOf(productId: string): Promise<{ averageRating: string; reviewCount: number }> {
  const product = await Product.findByPk(productId, { paranoid: false });
  if (!product) throw new Error('no such product');
  return { averageRating: product.averageRating, reviewCount: product.reviewCount };
}

describe('reviews', () => {
  const ctx = useTestApp();

  /** A signed-in customer who received `product`. */
  async function buyer(product: Product): Promise<SignedIn> {
    const customer = await signedInUser(ctx.app);
    await deliveredPurchase(customer.user, product);
    return customer;
  }

  const post = (who: SignedIn, productId: string, body: Record<string, unknown>) =>
    request(ctx.app).post(`/api/products/${productId}/reviews`).set('Authorization', who.bearer).send(body);

  describe('POST /api/products/:id/reviews', () => {
    it('lets a customer who received the product review it, and updates its rating', async () => {
      const product = await createProduct();
      const neighbour = await createProduct();
      const customer = await buyer(product);
      const res = await post(customer, product.id, { rating: 4, title: '  Solid  ', comment: 'Does what it says.' });
      expect(res.status).toBe(201);
      expect(res.body.success).toBe(true);
      expect(res.body.data.review).toEqual({
        id: expect.any(String),
        productId: product.id,
        rating: 4,
        title: 'Solid',
        comment: 'Does what it says.',
        isVerifiedPurchase: true,
        user: { id: customer.user.id, name: customer.user.name },
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
      });
      expect(res.body.data.product).toEqual({ id: product.id, averageRating: 4, reviewCount: 1 });
      expect(await ratingOf(product.id)).toEqual({ averageRating: '4.00', reviewCount: 1 });
      expect(await ratingOf(neighbour.id)).toEqual({ averageRating: '0.00', reviewCount: 0 });
      const row = await Review.findByPk(res.body.data.review.id);
      expect(row?.orderItemId).toEqual(expect.any(String));
    });

    it('accepts a line delivered on its own while the order is still shipping', async () => {
      const product = await createProduct();
      const customer = await signedInUser(ctx.app);
      await deliveredPurchase(customer.user, product, { orderStatus: 'shipped', itemStatus: 'delivered' });
      const res = await post(customer, product.id, { rating: 5, comment: 'Arrived first.' });
      expect(res.status).toBe(201);
    });

    it('answers 403 REVIEW_NOT_ALLOWED to customers who did not receive the product', async () => {
      const product = await createProduct();
      const never = await signedInUser(ctx.app);
      const pending = await signedInUser(ctx.app);
      await deliveredPurchase(pending.user, product, { orderStatus: 'pending', itemStatus: 'unfulfilled' });
      const shipped = await signedInUser(ctx.app);
      await deliveredPurchase(shipped.user, product, { orderStatus: 'shipped', itemStatus: 'shipped' });
      const otherProduct = await signedInUser(ctx.app);
      await deliveredPurchase(otherProduct.user, await createProduct());
      // Someone else's delivered order for this product gives no right to review it.
      await deliveredPurchase(await createUser(), product);

      for (const who of [never, pending, shipped, otherProduct]) {
        const res = await post(who, product.id, { rating: 1, comment: 'Never got it.' });
        expect(res.status).toBe(403);
        expect(res.body.error.code).toBe('REVIEW_NOT_ALLOWED');
      }
      expect(await ratingOf(product.id)).toEqual({ averageRating: '0.00', reviewCount: 0 });
      expect(await Review.count({ where: { productId: product.id } })).toBe(0);
    });

    it('answers 409 REVIEW_EXISTS to a second review, also when both are sent at once', async () => {
      const product = await createProduct();
      const customer = await buyer(product);
      expect((await post(customer, product.id, { rating: 5, comment: 'Great.' })).status).toBe(201);
      const again = await post(customer, product.id, { rating: 1, comment: 'Changed my mind.' });
      expect(again.status).toBe(409);
      expect(again.body.error.code).toBe('REVIEW_EXISTS');
      expect(await ratingOf(product.id)).toEqual({ averageRating: '5.00', reviewCount: 1 });

      const other = await createProduct();
      const racer = await buyer(other);
      const answers = await Promise.all([1, 2, 3].map((rating) => post(racer, other.id, { rating, comment: `Try ${rating}` })));
      expect(answers.map((res) => res.status).sort()).toEqual([201, 409, 409]);
      expect((await ratingOf(other.id)).reviewCount).toBe(1);
    });

    it('keeps count and average right when customers review at the same time', async () => {
      const product = await createProduct();
      const [first, second] = await Promise.all([buyer(product), buyer(product)]);
      const [a, b] = await Promise.all([post(first, product.id, { rating: 5, comment: 'Love it.' }), post(second, product.id, { rating: 2, comment: 'Meh.' })]);
      expect([a.status, b.status]).toEqual([201, 201]);
      expect(await ratingOf(product.id)).toEqual({ averageRating: '3.50', reviewCount: 2 });

      const crowd = await Promise.all(Array.from({ length: 6 }, () => buyer(product)));
      const ratings = [1, 2, 3, 4, 5, 5];
      const answers = await Promise.all(crowd.map((who, index) => post(who, product.id, { rating: ratings[index], comment: 'Crowd review.' })));
      expect(answers.every((res) => res.status === 201)).toBe(true);
      // (5 + 2 + 1 + 2 + 3 + 4 + 5 + 5) / 8 = 3.375, rounded to 3.38
      expect(await ratingOf(product.id)).toEqual({ averageRating: '3.38', reviewCount: 8 });
    });

    it.each([
      ['rating 0', { rating: 0, comment: 'x' }],
      ['rating 6', { rating: 6, comment: 'x' }],
      ['rating 4.5', { rating: 4.5, comment: 'x' }],
      ['rating as a word', { rating: 'five', comment: 'x' }],
      ['no rating', { comment: 'x' }],
      ['no comment', { rating: 3 }],
      ['a blank comment', { rating: 3, comment: '   ' }],
      ['a comment over 5000 characters', { rating: 3, comment: 'x'.repeat(5001) }],
      ['a title over 200 characters', { rating: 3, comment: 'x', title: 't'.repeat(201) }],
      ['an unknown field', { rating: 3, comment: 'x', isVerifiedPurchase: false }],
    ])('answers 400 VALIDATION_ERROR for %s', async (_name, body) => {
      const product = await createProduct();
      const customer = await buyer(product);
      const res = await post(customer, product.id, body);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION_ERROR');
      expect(await ratingOf(product.id)).toEqual({ averageRating: '0.00', reviewCount: 0 });
    });

    it('is for customers only', async () => {
      const product = await createProduct();
      const anonymous = await request(ctx.app).post(`/api/products/${product.id}/reviews`).send({ rating: 5, comment: 'x' });
      expect(anonymous.status).toBe(401);
      for (const role of ['seller', 'admin'] as const) {
        const who = await signedInUser(ctx.app, { role });
        await deliveredPurchase(who.user, product);
        const res = await post(who, product.id, { rating: 5, comment: 'x' });
        expect(res.status).toBe(403);
        expect(res.body.error.code).toBe('INSUFFICIENT_PERMISSIONS');
      }
    });

    it('answers 404 PRODUCT_NOT_FOUND for products the public cannot see', async () => {
      const customer = await signedInUser(ctx.app);
      const draft = await createProduct({ status: 'draft' });
      const inactive = await createProduct({ status: 'inactive' });
      const deleted = await createProduct();
      for (const product of [draft, inactive, deleted]) await deliveredPurchase(customer.user, product);
      await deleted.destroy();
      for (const id of [draft.id, inactive.id, deleted.id, UNKNOWN_ID, 'not-a-uuid']) {
        const res = await post(customer, id, { rating: 5, comment: 'x' });
        expect(res.status).toBe(404);
        expect(res.body.error.code).toBe('PRODUCT_NOT_FOUND');
      }
    });

    it('accepts reviews of an out-of-stock product', async () => {
      const product = await createProduct({ stockQuantity: 0 });
      expect(product.status).toBe('out_of_stock');
      const customer = await buyer(product);
      expect((await post(customer, product.id, { rating: 3, comment: 'Fine.' })).status).toBe(201);
    });
  });

  describe('GET /api/products/:id/reviews', () => {
    it('lists reviews with their author reduced to id and name, newest first, paginated', async () => {
      const product = await createProduct();
      const authors = await Promise.all([1, 2, 3].map(() => createUser()));
      const base = Date.now() - 60_000;
      for (const [index, author] of authors.entries()) {
        await createReview({ productId: product.id, userId: author.id, rating: index + 3, createdAt: new Date(base + index * 1000) });
      }
      await createReview({ userId: authors[0].id }); // another product: not listed

      const res = await request(ctx.app).get(`/api/products/${product.id}/reviews`);
      expect(res.status).toBe(200);
      expect(res.body.data.pagination).toEqual({ page: 1, limit: 20, total: 3, totalPages: 1 });
      expect(res.body.data.reviews.map((review: { user: { id: string } }) => review.user.id)).toEqual([authors[2].id, authors[1].id, authors[0].id]);
      for (const review of res.body.data.reviews) {
        expect(Object.keys(review.user).sort()).toEqual(['id', 'name']);
        expect(JSON.stringify(review)).not.toMatch(/email|password/);
      }

      const page = await request(ctx.app).get(`/api/products/${product.id}/reviews?page=2&limit=2`);
      expect(page.body.data.pagination).toEqual({ page: 2, limit: 2, total: 3, totalPages: 2 });
      expect(page.body.data.reviews).toHaveLength(1);
      expect(page.body.data.reviews[0].user.id).toBe(authors[0].id);
      // Past the last page: no review, the same total.
      const past = await request(ctx.app).get(`/api/products/${product.id}/reviews?page=3&limit=2`);
      expect(past.body.data).toEqual({ reviews: [], pagination: { page: 3, limit: 2, total: 3, totalPages: 2 } });
    });

    it('sorts by rating, best first', async () => {
      const product = await createProduct();
      for (const rating of [2, 5, 1, 4]) await createReview({ productId: product.id, rating });
      const res = await request(ctx.app).get(`/api/products/${product.id}/reviews?sortBy=rating`);
      expect(res.body.data.reviews.map((review: { rating: number }) => review.rating)).toEqual([5, 4, 2, 1]);
    });

    it('refuses unknown sorts and parameters', async () => {
      const product = await createProduct();
      for (const query of ['sortBy=rating;DROP TABLE reviews', 'sortBy=createdAt', 'limit=101', 'page=0', 'userId=x']) {
        const res = await request(ctx.app).get(`/api/products/${product.id}/reviews?${query}`);
        expect(res.status).toBe(400);
        expect(res.body.error.code).toBe('VALIDATION_ERROR');
      }
    });

    it('answers 404 PRODUCT_NOT_FOUND unless the product is public', async () => {
      const draft = await createProduct({ status: 'draft' });
      const inactive = await createProduct({ status: 'inactive' });
      const deleted = await createProduct();
      await createReview({ productId: deleted.id });
      await deleted.destroy();
      for (const id of [draft.id, inactive.id, deleted.id, UNKNOWN_ID, 'nope']) {
        const res = await request(ctx.app).get(`/api/products/${id}/reviews`);
        expect(res.status).toBe(404);
        expect(res.body.error.code).toBe('PRODUCT_NOT_FOUND');
      }
      const outOfStock = await createProduct({ stockQuantity: 0 });
      expect((await request(ctx.app).get(`/api/products/${outOfStock.id}/reviews`)).status).toBe(200);
    });
  });

  describe('PATCH and DELETE /api/reviews/:id', () => {
    async function reviewedProduct(): Promise<{ product: Product; author: SignedIn; reviewId: string }> {
      const product = await createProduct();
      const author = await buyer(product);
      const res = await post(author, product.id, { rating: 2, title: 'Meh', comment: 'Not great.' });
      expect(res.status).toBe(201);
      await createReview({ productId: product.id, rating: 4 });
      return { product, author, reviewId: res.body.data.review.id };
    }

    it('lets the author change the review; the average follows', async () => {
      const { product, author, reviewId } = await reviewedProduct();
      // The factory's review was written behind the service's back: the first write recomputes from all rows.
      const res = await request(ctx.app).patch(`/api/reviews/${reviewId}`).set('Authorization', author.bearer).send({ rating: 5, title: '' });
      expect(res.status).toBe(200);
      expect(res.body.data.review).toMatchObject({ id: reviewId, rating: 5, title: null, comment: 'Not great.', user: { id: author.user.id, name: author.user.name } });
      expect(res.body.data.product).toEqual({ id: product.id, averageRating: 4.5, reviewCount: 2 });
      expect(await ratingOf(product.id)).toEqual({ averageRating: '4.50', reviewCount: 2 });
    });

    it('answers 403 RESOURCE_ACCESS_DENIED to anyone but the author or an admin', async () => {
      const { product, reviewId } = await reviewedProduct();
      const stranger = await buyer(product);
      const seller = await signedInUser(ctx.app, { role: 'seller' });
      for (const who of [stranger, seller]) {
        const patch = await request(ctx.app).patch(`/api/reviews/${reviewId}`).set('Authorization', who.bearer).send({ rating: 1 });
        expect(patch.status).toBe(403);
        expect(patch.body.error.code).toBe('RESOURCE_ACCESS_DENIED');
        const del = await request(ctx.app).delete(`/api/reviews/${reviewId}`).set('Authorization', who.bearer);
        expect(del.status).toBe(403);
        expect(del.body.error.code).toBe('RESOURCE_ACCESS_DENIED');
      }
      expect((await Review.findByPk(reviewId))?.rating).toBe(2);
    });

    it('lets an admin moderate any review', async () => {
      const { product, author, reviewId } = await reviewedProduct();
      const admin = await signedInUser(ctx.app, { role: 'admin' });
      const patch = await request(ctx.app).patch(`/api/reviews/${reviewId}`).set('Authorization', admin.bearer).send({ comment: '[removed by moderator]' });
      expect(patch.status).toBe(200);
      expect(patch.body.data.review).toMatchObject({ comment: '[removed by moderator]', user: { id: author.user.id } });
      const del = await request(ctx.app).delete(`/api/reviews/${reviewId}`).set('Authorization', admin.bearer);
      expect(del.status).toBe(200);
      expect(del.body.data.product).toEqual({ id: product.id, averageRating: 4, reviewCount: 1 });
    });

    it('lets the author delete the review; with none left the rating is back to zero', async () => {
      const product = await createProduct();
      const author = await buyer(product);
      const { body } = await post(author, product.id, { rating: 3, comment: 'Okay.' });
      const res = await request(ctx.app).delete(`/api/reviews/${body.data.review.id}`).set('Authorization', author.bearer);
      expect(res.status).toBe(200);
      expect(res.body.data.product).toEqual({ id: product.id, averageRating: 0, reviewCount: 0 });
      expect(await Review.findByPk(body.data.review.id)).toBeNull();
      // Deleted, the customer may review again.
      expect((await post(author, product.id, { rating: 4, comment: 'Second look.' })).status).toBe(201);
    });

    it('answers 404 REVIEW_NOT_FOUND for unknown or malformed ids, and 400 for an empty change', async () => {
      const { author, reviewId } = await reviewedProduct();
      for (const id of [UNKNOWN_ID, 'not-a-uuid']) {
        const patch = await request(ctx.app).patch(`/api/reviews/${id}`).set('Authorization', author.bearer).send({ rating: 3 });
        expect(patch.status).toBe(404);
        expect(patch.body.error.code).toBe('REVIEW_NOT_FOUND');
        const del = await request(ctx.app).delete(`/api/reviews/${id}`).set('Authorization', author.bearer);
        expect(del.status).toBe(404);
        expect(del.body.error.code).toBe('REVIEW_NOT_FOUND');
      }
      const empty = await request(ctx.app).patch(`/api/reviews/${reviewId}`).set('Authorization', author.bearer).send({});
      expect(empty.status).toBe(400);
      const bad = await request(ctx.app).patch(`/api/reviews/${reviewId}`).set('Authorization', author.bearer).send({ rating: 9 });
      expect(bad.status).toBe(400);
      const moved = await request(ctx.app).patch(`/api/reviews/${reviewId}`).set('Authorization', author.bearer).send({ productId: UNKNOWN_ID });
      expect(moved.status).toBe(400);
    });

    it('keeps the rating right when a review is changed and another added at the same time', async () => {
      const { product, author, reviewId } = await reviewedProduct();
      const newcomer = await buyer(product);
      const [patch, created] = await Promise.all([
        request(ctx.app).patch(`/api/reviews/${reviewId}`).set('Authorization', author.bearer).send({ rating: 5 }),
        post(newcomer, product.id, { rating: 3, comment: 'Average.' }),
      ]);
      expect([patch.status, created.status]).toEqual([200, 201]);
      // 5 (changed) + 4 (factory) + 3 (new) = 12 / 3
      expect(await ratingOf(product.id)).toEqual({ averageRating: '4.00', reviewCount: 3 });
    });
  });
});
