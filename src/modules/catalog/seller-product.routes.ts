import { productController as controller } from './product.controller';
import { authenticate, authorize } from '../accounts';
import { validate } from '../../platform/http/validate.middleware';
import { pageOf } from '../../platform/http/response.schemas';
import { ApiRouter } from '../../platform/http/openapi';
import * as schemas from './product.schemas';

export const sellerProductRoutes = new ApiRouter('/api/seller/products', 'Seller dashboard').get(
  '/',
  { summary: 'Your products in every state (deleted ones excepted), newest first, with cost prices', returns: 'products, pagination', response: pageOf('products', 'ProductSummary') },
  authenticate,
  authorize('seller'),
  validate(schemas.sellerList),
  controller.listOwn,
);
