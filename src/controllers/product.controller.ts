import type { Request, Response } from 'express';
import { currentAuth } from '../middleware/auth.middleware';
import { productService, type Viewer } from '../services/product.service';

function viewerOf(req: Request): Viewer | undefined {
  const user = req.auth?.user;
  return user ? { id: user.id, role: user.role } : undefined;
}

function signedInViewer(req: Request): Viewer {
  const { user } = currentAuth(req);
  return { id: user.id, role: user.role };
}

export const productController = {
  async list(req: Request, res: Response) {
    res.json({ success: true, data: await productService.list(req.validated.query) });
  },

  async search(req: Request, res: Response) {
    res.json({ success: true, data: await productService.search(req.validated.query) });
  },

  /** A public read answered from the response cache: the view still counts. */
  countView(productId: string | undefined) {
    if (productId) productService.countView(productId);
  },

  async get(req: Request, res: Response) {
    res.json({ success: true, data: await productService.get(req.validated.params.idOrSlug, viewerOf(req)) });
  },

  async related(req: Request, res: Response) {
    const products = await productService.related(req.validated.params.id, req.validated.query.limit);
    res.json({ success: true, data: { products } });
  },

  async create(req: Request, res: Response) {
    const product = await productService.create(signedInViewer(req), req.validated.body);
    res.status(201).json({ success: true, data: product, message: 'Product created' });
  },

  async update(req: Request, res: Response) {
    const product = await productService.update(req.validated.params.id, signedInViewer(req), req.validated.body);
    res.json({ success: true, data: product, message: 'Product updated' });
  },

  async remove(req: Request, res: Response) {
    await productService.remove(req.validated.params.id, signedInViewer(req));
    res.json({ success: true, data: { id: req.validated.params.id }, message: 'Product deleted' });
  },

  async listOwn(req: Request, res: Response) {
    res.json({ success: true, data: await productService.listOwn(currentAuth(req).user.id, req.validated.query) });
  },
};
