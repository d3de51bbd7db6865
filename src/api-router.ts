import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { ApiRouter } from './platform/http/openapi';
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

/**
 * The part of a path that decides which routers may serve it: `api/<segment>` under /api, else the
 * first segment, lowercased (routes match without regard to case). A path whose deciding segment
 * is a parameter returns undefined.
 */
function dispatchKey(path: string): string | undefined {
  const [, first = '', second = ''] = path.toLowerCase().split('/', 3);
  const key = first === 'api' ? `api/${second}` : first;
  return key.includes(':') ? undefined : key;
}

/**
 * Runs, for each request, only the routers that have a route under its path's deciding segment,
 * in their order, instead of walking every router's routes: the routers are tried one after the
 * other as `app.use` would, each passing on to the next what it does not answer.
 */
function dispatchByPrefix(all: ApiRouter[]): RequestHandler {
  const anyPath = all.filter((routes) => routes.paths.some((path) => dispatchKey(path) === undefined));
  const keys = new Set(all.flatMap((routes) => routes.paths.map(dispatchKey)).filter((key): key is string => key !== undefined));
  const groups = new Map<string, RequestHandler[]>();
  for (const key of keys) {
    groups.set(
      key,
      all.filter((routes) => anyPath.includes(routes) || routes.paths.some((path) => dispatchKey(path) === key)).map((routes) => routes.router),
    );
  }
  const others = anyPath.map((routes) => routes.router);
  return (req: Request, res: Response, next: NextFunction) => {
    const routers = groups.get(dispatchKey(req.path) ?? '') ?? others;
    let index = 0;
    const step = (error?: unknown): void => {
      // 'router' leaves the router that called it, as under app.use; any other value is an error.
      if (error !== undefined && error !== 'router') return next(error);
      const router = routers[index];
      index += 1;
      if (!router) return next();
      void router(req, res, step);
    };
    step();
  };
}

/** Every router of the API, in the order they are matched: the composition of the modules. */
export function buildApiRouter(): RequestHandler {
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
  return dispatchByPrefix(all);
}
