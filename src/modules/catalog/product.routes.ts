import { productController as controller } from './product.controller';
import { authenticate, authorize, optionalAuth } from '../accounts';
import { cachePublicResponse, publicCache } from '../../platform/http/public-cache.middleware';
import { validate } from '../../platform/http/validate.middleware';
import { listOf, pageOf, ref } from '../../platform/http/response.schemas';
import { ApiRouter } from '../../platform/http/openapi';
import * as schemas from './product.schemas';

export const productRoutes = new ApiRouter('/api/products', 'Catalog: products')
  .get(
    '/',
    {
      summary: 'List products (active and sold out; never drafts), filtered and sorted',
      description:
        'category includes its sub-categories; tags must all be present; inStock=true keeps products with stock. ' +
        'Ties are broken by id, so pages are stable.',
      returns: 'products, pagination',
      response: pageOf('products', 'ProductSummary'),
    },
    publicCache,
    validate(schemas.list),
    controller.list,
  )
  .get(
    '/search',
    {
      summary: 'Full-text search of listed products, ranked by relevance',
      description: 'The last word also matches as a prefix ("head" finds "headphones"). A query of only stop words or symbols finds nothing.',
      returns: 'products, query, pagination',
      response: { ...pageOf('products', 'ProductSummary'), query: { type: 'string' } },
    },
    publicCache,
    validate(schemas.search),
    controller.search,
  )
  .get(
    '/:id',
    {
      summary: 'A product by id or slug',
      description: 'Drafts and inactive products are visible to their seller and admins only; costPrice likewise.',
      returns: 'the product with seller, category, discountPercentage, inStock',
      response: ref('Product'),
      errors: ['404 PRODUCT_NOT_FOUND'],
    },
    // Anonymous hits still count a view; signed-in callers skip the cache (owners see drafts).
    cachePublicResponse({ onHit: (data) => controller.countView(data.id) }),
    optionalAuth,
    validate(schemas.show),
    controller.get,
  )
  .get(
    '/:id/related',
    {
      summary: 'Other active products of the same category, best rated first',
      returns: 'products',
      response: { products: listOf('ProductSummary') },
      errors: ['404 PRODUCT_NOT_FOUND'],
    },
    publicCache,
    validate(schemas.related),
    controller.related,
  )
  .post(
    '/',
    {
      example: { name: 'Steel Watering Can', description: 'A 5 litre watering can of galvanised steel.', price: '24.90', sku: 'GARDEN-CAN-5L', stockQuantity: 40, status: 'active', tags: ['garden', 'steel'] },
      summary: 'Create a product (a seller for themself; an admin for the approved seller named by sellerId)',
      status: 201,
      returns: 'the product',
      response: ref('Product'),
      errors: ['409 SKU_EXISTS'],
    },
    authenticate,
    authorize('seller', 'admin'),
    validate(schemas.create),
    controller.create,
  )
  .patch(
    '/:id',
    {
      example: { price: '22.90', stockQuantity: 35 },
      summary: 'Change a product (its seller or an admin)',
      returns: 'the product',
      response: ref('Product'),
      errors: ['403 RESOURCE_ACCESS_DENIED', '404 PRODUCT_NOT_FOUND', '409 SKU_EXISTS'],
    },
    authenticate,
    authorize('seller', 'admin'),
    validate(schemas.update),
    controller.update,
  )
  .delete(
    '/:id',
    {
      summary: 'Delete a product (soft: orders keep their lines)',
      returns: 'id',
      response: { id: { type: 'string', format: 'uuid' } },
      errors: ['403 RESOURCE_ACCESS_DENIED', '404 PRODUCT_NOT_FOUND'],
    },
    authenticate,
    authorize('seller', 'admin'),
    validate(schemas.byId),
    controller.remove,
  );
