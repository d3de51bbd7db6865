import type { Request, Response } from 'express';
import { currentAuth } from '../accounts';
import { handler } from '../../platform/http/validate.middleware';
import * as schemas from './shipping-rate.schemas';
import { shippingRateService } from './shipping-rate.service';

export const shippingRateController = {
  async list(req: Request, res: Response) {
    res.json({ success: true, data: { shippingRates: await shippingRateService.list(currentAuth(req).user.id) } });
  },

  create: handler(schemas.create, async (req, res) => {
    res.status(201).json({ success: true, data: await shippingRateService.create(currentAuth(req).user.id, req.validated.body), message: 'Shipping rate saved' });
  }),

  update: handler(schemas.update, async (req, res) => {
    res.json({ success: true, data: await shippingRateService.update(currentAuth(req).user.id, req.validated.params.id, req.validated.body), message: 'Shipping rate updated' });
  }),

  remove: handler(schemas.byId, async (req, res) => {
    await shippingRateService.remove(currentAuth(req).user.id, req.validated.params.id);
    res.json({ success: true, data: { id: req.validated.params.id }, message: 'Shipping rate deleted' });
  }),
};
