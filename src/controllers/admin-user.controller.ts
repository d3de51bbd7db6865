import type { Request, Response } from 'express';
import { currentAuth } from '../middleware/auth.middleware';
import { userService } from '../services/user.service';

export const adminUserController = {
  async list(req: Request, res: Response) {
    res.json({ success: true, data: await userService.list(req.validated.query) });
  },

  async get(req: Request, res: Response) {
    res.json({ success: true, data: await userService.get(req.validated.params.id) });
  },

  async setStatus(req: Request, res: Response) {
    const { status, reason } = req.validated.body;
    const user = await userService.setStatus(currentAuth(req).user.id, req.validated.params.id, status, reason);
    res.json({ success: true, data: user, message: `User ${status}` });
  },

  async listSellers(req: Request, res: Response) {
    res.json({ success: true, data: await userService.listSellers(req.validated.query) });
  },

  async approveSeller(req: Request, res: Response) {
    const seller = await userService.approveSeller(currentAuth(req).user.id, req.validated.params.id);
    res.json({ success: true, data: seller, message: 'Seller approved' });
  },

  async rejectSeller(req: Request, res: Response) {
    const seller = await userService.rejectSeller(currentAuth(req).user.id, req.validated.params.id, req.validated.body.reason);
    res.json({ success: true, data: seller, message: 'Seller rejected' });
  },
};
