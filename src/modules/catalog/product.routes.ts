import { productController as controller, publicProductReads as reads } from './product.controller';
import { authenticate, authorize, optionalAuth } from '../accounts';
import { cachePublicResponse } from '../../platform/http/public-cache.middleware';
import { validate } from '../../platform/http/validate.middleware';
import { objectSchema } from '../../platform/http/openapi';
import { listOf, money, nullable, pageOf, ref } from '../../platform/http/response.schemas';
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
    cachePublicResponse({ refresh: reads.list }),
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
    cachePublicResponse({ refresh: reads.search }),
    validate(schemas.search),
    controller.search,
  )
  .get(
    '/facets',
    {
      summary: 'Facets of the listed products matching the filters: option values, price range, categories',
      description:
        'Counts are of listed products (active and sold out). An option value counts the products having an active variant with it; ' +
        'categories count products by their own category. Values are ordered by count, then name.',
      returns: 'options, price, categories',
      response: {
        options: {
          type: 'object',
          additionalProperties: { type: 'array', items: objectSchema({ value: { type: 'string' }, count: { type: 'integer', minimum: 1 } }) },
        },
        price: objectSchema({ min: nullable(money), max: nullable(money) }),
        categories: {
          type: 'array',
          items: objectSchema({ id: { type: 'string', format: 'uuid' }, name: { type: 'string' }, slug: { type: 'string' }, count: { type: 'integer', minimum: 1 } }),
        },
      },
    },
    cachePublicResponse({ refresh: reads.facets }),
    validate(schemas.facets),
    controller.facets,
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
    cachePublicResponse({ onHit: (data) => controller.countView(data.id), refresh: reads.get }),
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
    cachePublicResponse({ refresh: reads.related }),
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
      errors: ['400 VARIANT_OPTIONS_MISMATCH', '409 VARIANT_EXISTS', '409 SKU_EXISTS'],
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
      errors: ['400 VARIANT_OPTIONS_MISMATCH', '400 VARIANT_REQUIRED', '403 RESOURCE_ACCESS_DENIED', '404 PRODUCT_NOT_FOUND', '409 SKU_EXISTS'],
    },
    authenticate,
    authorize('seller', 'admin'),
    validate(schemas.update),
    controller.update,
  )
  .post(
    '/:id/variants',
    {
      example: { sku: 'TEE-ORG-XL-NAVY', options: { Size: 'XL', Color: 'Navy' }, price: '24.00', stockQuantity: 12 },
      summary: 'Add a variant to a product (its seller or an admin)',
      description: 'The variant names one value of every option of the product (add values to the product\'s options first), in a combination no other variant has.',
      status: 201,
      returns: 'the variant',
      response: ref('Variant'),
      errors: ['400 VARIANT_OPTIONS_MISMATCH', '403 RESOURCE_ACCESS_DENIED', '404 PRODUCT_NOT_FOUND', '409 VARIANT_EXISTS', '409 SKU_EXISTS'],
    },
    authenticate,
    authorize('seller', 'admin'),
    validate(schemas.addVariant),
    controller.addVariant,
  )
  .patch(
    '/:id/variants/:variantId',
    {
      example: { price: '26.00', stockQuantity: 30 },
      summary: 'Change a variant (its seller or an admin)',
      description: 'Placed orders keep the price and SKU they were sold at. The last active variant cannot be made inactive.',
      returns: 'the variant',
      response: ref('Variant'),
      errors: ['400 VARIANT_OPTIONS_MISMATCH', '403 RESOURCE_ACCESS_DENIED', '404 PRODUCT_NOT_FOUND', '404 VARIANT_NOT_FOUND', '409 VARIANT_EXISTS', '409 SKU_EXISTS', '409 LAST_VARIANT'],
    },
    authenticate,
    authorize('seller', 'admin'),
    validate(schemas.updateVariant),
    controller.updateVariant,
  )
  .delete(
    '/:id/variants/:variantId',
    {
      summary: 'Delete a variant (soft: order lines keep it; its SKU becomes free)',
      returns: 'id',
      response: { id: { type: 'string', format: 'uuid' } },
      errors: ['403 RESOURCE_ACCESS_DENIED', '404 PRODUCT_NOT_FOUND', '404 VARIANT_NOT_FOUND', '409 LAST_VARIANT'],
    },
    authenticate,
    authorize('seller', 'admin'),
    validate(schemas.removeVariant),
    controller.removeVariant,
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
