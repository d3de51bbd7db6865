import { currentAuth } from './auth.middleware';
import { handler } from '../../platform/http/validate.middleware';
import * as schemas from './admin-user.schemas';
import { userService } from './user.service';

export const adminUserController = {
  list: handler(schemas.listUsers, async (req, res) => {
    res.json({ success: true, data: await userService.list(req.validated.query) });
  }),

  get: handler(schemas.getUser, async (req, res) => {
    res.json({ success: true, data: await userService.get(req.validated.params.id) });
  }),

  setStatus: handler(schemas.setStatus, async (req, res) => {
    const { status, reason } = req.validated.body;
    const user = await userService.setStatus(currentAuth(req).user.id, req.validated.params.id, status, reason);
    res.json({ success: true, data: user, message: `User ${status}` });
  }),

  listSellers: handler(schemas.listSellers, async (req, res) => {
    res.json({ success: true, data: await userService.listSellers(req.validated.query) });
  }),

  approveSeller: handler(schemas.approveSeller, async (req, res) => {
    const seller = await userService.approveSeller(currentAuth(req).user.id, req.validated.params.id);
    res.json({ success: true, data: seller, message: 'Seller approved' });
  }),

  rejectSeller: handler(schemas.rejectSeller, async (req, res) => {
    const seller = await userService.rejectSeller(currentAuth(req).user.id, req.validated.params.id, req.validated.body.reason);
    res.json({ success: true, data: seller, message: 'Seller rejected' });
  }),
};
