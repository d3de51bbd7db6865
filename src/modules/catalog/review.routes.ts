import { reviewController as controller, publicReviewReads } from './review.controller';
import { authenticate, authorize } from '../accounts';
import { cachePublicResponse } from '../../platform/http/public-cache.middleware';
import { validate } from '../../platform/http/validate.middleware';
import { pageOf, ref } from '../../platform/http/response.schemas';
import { ApiRouter } from '../../platform/http/openapi';
import * as schemas from './review.schemas';

// Reviews live under two prefixes (/api/products/:id/reviews and /api/reviews/:id): full paths here.
export const reviewRoutes = new ApiRouter('', 'Catalog: reviews')
  .get(
    '/api/products/:id/reviews',
    { summary: 'Reviews of a product, newest first or best rated first', returns: 'reviews (each with user {id, name}), pagination', response: pageOf('reviews', 'Review'), errors: ['404 PRODUCT_NOT_FOUND'] },
    cachePublicResponse({ refresh: publicReviewReads.listForProduct }),
    validate(schemas.listForProduct),
    controller.listForProduct,
  )
  .post(
    '/api/products/:id/reviews',
    {
      example: { rating: 5, title: 'Does the job', comment: 'Sturdy, and the spout does not drip.' },
      summary: 'Review a product you received (one review per product)',
      description: 'Allowed to a customer with a delivered order line for the product. The product averageRating and reviewCount are updated at once.',
      status: 201,
      returns: 'review, product {id, averageRating, reviewCount}',
      response: { review: ref('Review'), product: ref('ProductRating') },
      errors: ['403 REVIEW_NOT_ALLOWED', '404 PRODUCT_NOT_FOUND', '409 REVIEW_EXISTS'],
    },
    authenticate,
    authorize('customer'),
    validate(schemas.create),
    controller.create,
  )
  .patch(
    '/api/reviews/:id',
    {
      example: { rating: 4, comment: 'Sturdy; the handle gets hot in the sun.' },
      summary: 'Change your review (admins: any review)',
      returns: 'review, product {id, averageRating, reviewCount}',
      response: { review: ref('Review'), product: ref('ProductRating') },
      errors: ['403 RESOURCE_ACCESS_DENIED', '404 REVIEW_NOT_FOUND'],
    },
    authenticate,
    validate(schemas.update),
    controller.update,
  )
  .delete(
    '/api/reviews/:id',
    {
      summary: 'Delete your review (admins: any review)',
      returns: 'product {id, averageRating, reviewCount}',
      response: { product: ref('ProductRating') },
      errors: ['403 RESOURCE_ACCESS_DENIED', '404 REVIEW_NOT_FOUND'],
    },
    authenticate,
    validate(schemas.remove),
    controller.remove,
  );
