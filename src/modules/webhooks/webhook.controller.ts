import type { Request, Response } from 'express';
import { callerOf } from '../accounts';
import { handler } from '../../platform/http/validate.middleware';
import { endpointService } from './endpoint.service';
import * as schemas from './webhook.schemas';

export const webhookController = {
  async list(req: Request, res: Response) {
    res.json({ success: true, data: { endpoints: await endpointService.list(callerOf(req)) } });
  },

  create: handler(schemas.create, async (req, res) => {
    res.status(201).json({ success: true, data: await endpointService.create(callerOf(req), req.validated.body), message: 'Endpoint registered; keep its secret, it is shown once' });
  }),

  update: handler(schemas.update, async (req, res) => {
    res.json({ success: true, data: await endpointService.update(callerOf(req), req.validated.params.id, req.validated.body) });
  }),

  remove: handler(schemas.byId, async (req, res) => {
    await endpointService.remove(callerOf(req), req.validated.params.id);
    res.json({ success: true, data: { id: req.validated.params.id }, message: 'Endpoint deleted' });
  }),

  rollSecret: handler(schemas.byId, async (req, res) => {
    res.json({ success: true, data: await endpointService.rollSecret(callerOf(req), req.validated.params.id), message: 'New secret; the old one no longer signs' });
  }),

  deliveries: handler(schemas.deliveries, async (req, res) => {
    res.json({ success: true, data: await endpointService.deliveries(callerOf(req), req.validated.params.id, req.validated.query) });
  }),

  redeliver: handler(schemas.redeliver, async (req, res) => {
    const { id, deliveryId } = req.validated.params;
    res.json({ success: true, data: await endpointService.redeliver(callerOf(req), id, deliveryId), message: 'Delivery queued again' });
  }),
};
