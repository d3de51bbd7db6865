import { Router } from 'express';
import { adminUserRoutes } from './admin-user.routes';
import { authRoutes } from './auth.routes';
import { categoryRoutes } from './category.routes';
import { healthRoutes } from './health.routes';
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
    categoryRoutes,
    productRoutes,
    reviewRoutes,
    uploadRoutes,
  ];
  for (const routes of all) router.use(routes.router);
  return router;
}
