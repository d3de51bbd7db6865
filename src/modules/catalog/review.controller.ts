import { currentAuth } from '../accounts';
import { handler } from '../../platform/http/validate.middleware';
import { publicRead } from '../../platform/http/public-cache.middleware';
import * as schemas from './review.schemas';
import { reviewService } from './review.service';

/** A product's reviews as anonymous callers get them: the handler's answer, and the public cache's refresh. */
export const publicReviewReads = {
  listForProduct: publicRead(schemas.listForProduct, (input) => reviewService.listForProduct(input.params.id, input.query)),
};

export const reviewController = {
  listForProduct: handler(schemas.listForProduct, async (req, res) => {
    res.json({ success: true, data: await publicReviewReads.listForProduct.data(req.validated) });
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
