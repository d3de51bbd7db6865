import { Router } from 'express';
import { adminUserRoutes } from './admin-user.routes';
import { authRoutes } from './auth.routes';
import { cartRoutes } from './cart.routes';
import { categoryRoutes } from './category.routes';
import { adminFinanceRoutes, sellerFinanceRoutes } from './finance.routes';
import { healthRoutes } from './health.routes';
import { adminOrderRoutes, orderRoutes, sellerOrderRoutes } from './order.routes';
import { adminPaymentRoutes, paymentRoutes, webhookRoutes } from './payment.routes';
import { productRoutes } from './product.routes';
import { reviewRoutes } from './review.routes';
import { sellerProductRoutes } from './seller-product.routes';
import { sellerProfileRoutes } from './seller-profile.routes';
import { uploadRoutes } from './upload.routes';

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
