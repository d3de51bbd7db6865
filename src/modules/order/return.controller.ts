import { callerOf } from '../accounts';
import { handler } from '../../platform/http/validate.middleware';
import * as schemas from './return.schemas';
import { returnService } from './return.service';

export const returnController = {
  request: handler(schemas.request, async (req, res) => {
    res.status(201).json({ success: true, data: await returnService.request(callerOf(req), req.validated.params.id, req.validated.body), message: 'Return asked' });
  }),

  list: handler(schemas.list, async (req, res) => {
    res.json({ success: true, data: await returnService.list(callerOf(req), req.validated.query) });
  }),

  approve: handler(schemas.decide, async (req, res) => {
    res.json({ success: true, data: await returnService.approve(callerOf(req), req.validated.params.id, req.validated.body.note || null), message: 'Return approved' });
  }),

  reject: handler(schemas.decide, async (req, res) => {
    res.json({ success: true, data: await returnService.reject(callerOf(req), req.validated.params.id, req.validated.body.note || null), message: 'Return rejected' });
  }),

  receive: handler(schemas.receive, async (req, res) => {
    res.json({ success: true, data: await returnService.receive(callerOf(req), req.validated.params.id, req.validated.body.restock), message: 'Return received' });
  }),
};
