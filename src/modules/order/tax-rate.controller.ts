import type { Request, Response } from 'express';
import { handler } from '../../platform/http/validate.middleware';
import * as schemas from './tax-rate.schemas';
import { taxRateService } from './tax-rate.service';

export const taxRateController = {
  async list(_req: Request, res: Response) {
    res.json({ success: true, data: { taxRates: await taxRateService.list() } });
  },

  create: handler(schemas.create, async (req, res) => {
    res.status(201).json({ success: true, data: await taxRateService.create(req.validated.body), message: 'Tax rate saved' });
  }),

  update: handler(schemas.update, async (req, res) => {
    res.json({ success: true, data: await taxRateService.update(req.validated.params.id, req.validated.body), message: 'Tax rate updated' });
  }),

  remove: handler(schemas.byId, async (req, res) => {
    await taxRateService.remove(req.validated.params.id);
    res.json({ success: true, data: { id: req.validated.params.id }, message: 'Tax rate deleted' });
  }),
};
