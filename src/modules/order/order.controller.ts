import type { Request } from 'express';
import { callerOf, currentAuth } from '../accounts';
import { handler } from '../../platform/http/validate.middleware';
import * as schemas from './order.schemas';
import { cancellationService } from './cancellation.service';
import { checkoutService } from './checkout.service';
import { fulfillmentService } from './fulfillment.service';
import { orderService } from './order.service';
import { ValidationError } from '../../platform/utils/errors';

/** The Idempotency-Key header, checked like any other input. */
function idempotencyKeyOf(req: Request): string | undefined {
  const header = req.get('idempotency-key');
  if (header === undefined) return undefined;
  const { value, error } = schemas.idempotencyKey.validate(header);
  if (error) throw new ValidationError([{ field: 'Idempotency-Key', message: 'Idempotency-Key must be 1 to 255 visible ASCII characters' }]);
  return value;
}

export const orderController = {
  checkout: handler(schemas.checkout, async (req, res) => {
    const result = await checkoutService.checkout(callerOf(req), req.validated.body, idempotencyKeyOf(req));
    if (result.replayed) res.set('Idempotent-Replayed', 'true');
    // A replay answers as the request that placed the order did.
    res.status(201).json({ success: true, data: result.order, message: result.replayed ? 'Order already placed with this Idempotency-Key' : 'Order placed' });
  }),

  list: handler(schemas.list, async (req, res) => {
    res.json({ success: true, data: await orderService.listOwn(currentAuth(req).user.id, req.validated.query) });
  }),

  get: handler(schemas.byId, async (req, res) => {
    res.json({ success: true, data: await orderService.get(req.validated.params.id, callerOf(req)) });
  }),

  history: handler(schemas.byId, async (req, res) => {
    res.json({ success: true, data: { history: await orderService.history(req.validated.params.id, callerOf(req)) } });
  }),

  cancel: handler(schemas.cancel, async (req, res) => {
    const order = await cancellationService.cancel(req.validated.params.id, callerOf(req), req.validated.body.reason || null);
    res.json({ success: true, data: order, message: 'Order cancelled' });
  }),

  adminList: handler(schemas.adminList, async (req, res) => {
    res.json({ success: true, data: await orderService.adminList(req.validated.query) });
  }),

  adminSetStatus: handler(schemas.adminSetStatus, async (req, res) => {
    const order = await cancellationService.adminSetStatus(req.validated.params.id, callerOf(req), req.validated.body);
    res.json({ success: true, data: order, message: `Order ${order.status}` });
  }),

  sellerList: handler(schemas.sellerList, async (req, res) => {
    res.json({ success: true, data: await fulfillmentService.sellerList(currentAuth(req).user.id, req.validated.query) });
  }),

  sellerGet: handler(schemas.byId, async (req, res) => {
    res.json({ success: true, data: await fulfillmentService.sellerGet(req.validated.params.id, currentAuth(req).user.id) });
  }),

  fulfil: handler(schemas.fulfil, async (req, res) => {
    const order = await fulfillmentService.sellerFulfil(req.validated.params.id, callerOf(req), req.validated.body);
    res.json({ success: true, data: order, message: 'Items marked shipped' });
  }),
};
