import type { Request, Response } from 'express';
import { currentAuth } from './auth.middleware';
import { handler } from '../../platform/http/validate.middleware';
import * as schemas from './seller-profile.schemas';
import { userService } from './user.service';

export const sellerProfileController = {
  async get(req: Request, res: Response) {
    res.json({ success: true, data: await userService.getSellerProfile(currentAuth(req).user.id) });
  },

  update: handler(schemas.updateProfile, async (req, res) => {
    const profile = await userService.updateSellerProfile(currentAuth(req).user.id, req.validated.body);
    res.json({ success: true, data: profile, message: 'Store profile updated' });
  }),
};
