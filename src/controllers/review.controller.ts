import type { Request, Response } from 'express';
import { currentAuth } from '../middleware/auth.middleware';
import { reviewService } from '../services/review.service';

export const reviewController = {
  async listForProduct(req: Request, res: Response) {
    res.json({ success: true, data: await reviewService.listForProduct(req.validated.params.id, req.validated.query) });
  },

  async create(req: Request, res: Response) {
    const result = await reviewService.create(currentAuth(req).user, req.validated.params.id, req.validated.body);
    res.status(201).json({ success: true, data: result, message: 'Review added' });
  },

  async update(req: Request, res: Response) {
    const result = await reviewService.update(currentAuth(req).user, req.validated.params.id, req.validated.body);
    res.json({ success: true, data: result, message: 'Review updated' });
  },

  async remove(req: Request, res: Response) {
    const result = await reviewService.remove(currentAuth(req).user, req.validated.params.id);
    res.json({ success: true, data: result, message: 'Review deleted' });
  },
};
