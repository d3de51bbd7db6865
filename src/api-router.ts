import { Router } from 'express';
import { addressRoutes, adminUserRoutes, authRoutes, sellerProfileRoutes } from './modules/accounts';
import { categoryRoutes, productRoutes, reviewRoutes, sellerProductRoutes, uploadRoutes } from './modules/catalog';
import { adminFinanceRoutes, sellerFinanceRoutes } from './modules/finance';
import {
  adminOrderRoutes,
  adminPromotionRoutes,
  adminReturnRoutes,
  adminTaxRateRoutes,
  cartRoutes,
  orderReturnRoutes,
  orderRoutes,
  sellerOrderRoutes,
  sellerPromotionRoutes,
  sellerReturnRoutes,
  sellerShippingRateRoutes,
} from './modules/order';
import { adminPaymentRoutes, paymentRoutes, webhookRoutes } from './modules/payment';
import { adminWebhookRoutes, sellerWebhookRoutes } from './modules/webhooks';
import { healthRoutes } from './platform/http/health.routes';

/** Every router of the API, in the order they are matched: the composition of the modules. */
export function buildApiRouter(): Router {
  const router = Router();
  const all = [
    healthRoutes,
    authRoutes,
    addressRoutes,
    adminUserRoutes,
    sellerProfileRoutes,
    sellerProductRoutes,
    sellerOrderRoutes,
    sellerReturnRoutes,
    sellerShippingRateRoutes,
    sellerPromotionRoutes,
    sellerFinanceRoutes,
    sellerWebhookRoutes,
    adminOrderRoutes,
    adminReturnRoutes,
    adminTaxRateRoutes,
    adminPromotionRoutes,
    adminPaymentRoutes,
    adminFinanceRoutes,
    adminWebhookRoutes,
    categoryRoutes,
    productRoutes,
    reviewRoutes,
    uploadRoutes,
    cartRoutes,
    orderRoutes,
    orderReturnRoutes,
    paymentRoutes,
    webhookRoutes,
  ];
  for (const routes of all) router.use(routes.router);
  return router;
}
