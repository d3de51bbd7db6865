import { currentAuth } from '../accounts';
import { handler } from '../../platform/http/validate.middleware';
import * as schemas from './review.schemas';
import { reviewService } from './review.service';

export const reviewController = {
  listForProduct: handler(schemas.listForProduct, async (req, res) => {
    res.json({ success: true, data: await reviewService.listForProduct(req.validated.params.id, req.validated.query) });
  }),

  create: handler(schemas.create, async (req, res) => {
    const result = await reviewService.create(currentAuth(req).user, req.validated.params.id, req.validated.body);
    res.status(201).json({ success: true, data: result, message: 'Review added' });
  }),

  update: handler(schemas.update, async (req, res) => {
    const result = await reviewService.update(currentAuth(req).user, req.validated.params.id, req.validated.body);
    res.json({ success: true, data: result, message: 'Review updated' });
  }),

  remove: handler(schemas.remove, async (req, res) => {
    const result = await reviewService.remove(currentAuth(req).user, req.validated.params.id);
    res.json({ success: true, data: result, message: 'Review deleted' });
  }),
};
