import { Router } from 'express';
import { adminUserRoutes } from './modules/accounts/admin-user.routes';
import { authRoutes } from './modules/accounts/auth.routes';
import { cartRoutes } from './modules/order/cart.routes';
import { categoryRoutes } from './modules/catalog/category.routes';
import { adminFinanceRoutes, sellerFinanceRoutes } from './modules/finance/finance.routes';
import { healthRoutes } from './platform/http/health.routes';
import { adminOrderRoutes, orderRoutes, sellerOrderRoutes } from './modules/order/order.routes';
import { adminPaymentRoutes, paymentRoutes, webhookRoutes } from './modules/payment/payment.routes';
import { productRoutes } from './modules/catalog/product.routes';
import { reviewRoutes } from './modules/catalog/review.routes';
import { sellerProductRoutes } from './modules/catalog/seller-product.routes';
import { sellerProfileRoutes } from './modules/accounts/seller-profile.routes';
import { uploadRoutes } from './modules/catalog/upload.routes';

/** Every router of the API, in the order they are matched. */
export function buildApiRouter(): Router {
  const router = Router();
  const all = [
    healthRoutes,
    authRoutes,
    adminUserRoutes,
    sellerProfileRoutes,
    sellerProductRoutes,
    sellerOrderRoutes,
    sellerFinanceRoutes,
    adminOrderRoutes,
    adminPaymentRoutes,
    adminFinanceRoutes,
    categoryRoutes,
    productRoutes,
    reviewRoutes,
    uploadRoutes,
    cartRoutes,
    orderRoutes,
    paymentRoutes,
    webhookRoutes,
  ];
  for (const routes of all) router.use(routes.router);
  return router;
}
