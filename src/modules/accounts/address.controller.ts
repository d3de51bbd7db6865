import type { Request, Response } from 'express';
import { handler } from '../../platform/http/validate.middleware';
import { addressService } from './address.service';
import * as schemas from './address.schemas';
import { currentAuth } from './auth.middleware';

export const addressController = {
  async list(req: Request, res: Response) {
    res.json({ success: true, data: { addresses: await addressService.list(currentAuth(req).user.id) } });
  },

  create: handler(schemas.create, async (req, res) => {
    res.status(201).json({ success: true, data: await addressService.create(currentAuth(req).user.id, req.validated.body), message: 'Address saved' });
  }),

  update: handler(schemas.update, async (req, res) => {
    res.json({ success: true, data: await addressService.update(currentAuth(req).user.id, req.validated.params.id, req.validated.body), message: 'Address updated' });
  }),

  remove: handler(schemas.byId, async (req, res) => {
    await addressService.remove(currentAuth(req).user.id, req.validated.params.id);
    res.json({ success: true, data: { id: req.validated.params.id }, message: 'Address deleted' });
  }),
};
