import type { NextFunction, Request, Response } from 'express';
import { currentAuth } from '../accounts';
import { uploadedFiles } from './upload.middleware';
import { handler } from '../../platform/http/validate.middleware';
import * as schemas from './upload.schemas';
import { uploadService } from './upload.service';

export const uploadController = {
  /** Runs before the body is read: a user over the hourly limit sends no bytes to disk. */
  async checkHourlyLimit(req: Request, _res: Response, next: NextFunction) {
    await uploadService.assertWithinHourlyLimit(currentAuth(req).user.id, 1);
    next();
  },

  async uploadImage(req: Request, res: Response) {
    const [image] = await uploadService.store(currentAuth(req).user.id, uploadedFiles(req));
    res.status(201).json({ success: true, data: image, message: 'Image uploaded' });
  },

  async uploadImages(req: Request, res: Response) {
    const images = await uploadService.store(currentAuth(req).user.id, uploadedFiles(req));
    res.status(201).json({ success: true, data: { images }, message: `${images.length} image(s) uploaded` });
  },

  deleteImage: handler(schemas.deleteImage, async (req, res) => {
    await uploadService.remove(currentAuth(req).user, req.validated.params.publicId);
    res.json({ success: true, data: {}, message: 'Image deleted' });
  }),
};
