import { callerOf, currentAuth } from '../accounts';
import { handler } from '../../platform/http/validate.middleware';
import * as schemas from './promotion.schemas';
import { promotionService } from './promotion.service';

/** Serves the admin's routes (platform promotions) and the seller's (their own): the service scopes by the caller. */
export const promotionController = {
  listPlatform: handler(schemas.listPlatform, async (req, res) => {
    const { sellerId, ...page } = req.validated.query;
    res.json({ success: true, data: await promotionService.list(sellerId ?? null, page) });
  }),

  listOwn: handler(schemas.listOwn, async (req, res) => {
    res.json({ success: true, data: await promotionService.list(currentAuth(req).user.id, req.validated.query) });
  }),

  create: handler(schemas.create, async (req, res) => {
    res.status(201).json({ success: true, data: await promotionService.create(callerOf(req), req.validated.body), message: 'Promotion created' });
  }),

  update: handler(schemas.update, async (req, res) => {
    res.json({ success: true, data: await promotionService.update(callerOf(req), req.validated.params.id, req.validated.body), message: 'Promotion updated' });
  }),

  deactivate: handler(schemas.byId, async (req, res) => {
    res.json({ success: true, data: await promotionService.deactivate(callerOf(req), req.validated.params.id), message: 'Promotion deactivated' });
  }),
};
