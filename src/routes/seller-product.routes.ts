import { productController as controller } from '../controllers/product.controller';
import { authenticate, authorize } from '../middleware/auth.middleware';
import { validate } from '../middleware/validate.middleware';
import { pageOf } from './response.schemas';
import { ApiRouter } from '../utils/openapi';
import * as schemas from './product.schemas';

export const sellerProductRoutes = new ApiRouter('/api/seller/products', 'Seller dashboard').get(
  '/',
  { summary: 'Your products in every state (deleted ones excepted), newest first, with cost prices', returns: 'products, pagination', response: pageOf('products', 'ProductSummary') },
  authenticate,
  authorize('seller'),
  validate(schemas.sellerList),
  controller.listOwn,
);
