import type { Request } from 'express';
import { currentAuth } from '../accounts';
import { handler } from '../../platform/http/validate.middleware';
import { publicRead } from '../../platform/http/public-cache.middleware';
import * as schemas from './product.schemas';
import { productService, type Viewer } from './product.service';
import { variantService } from './variant.service';

function viewerOf(req: Request): Viewer | undefined {
  const user = req.auth?.user;
  return user ? { id: user.id, role: user.role } : undefined;
}

function signedInViewer(req: Request): Viewer {
  const { user } = currentAuth(req);
  return { id: user.id, role: user.role };
}

/**
 * The data of the public reads' answers to anonymous callers: what their handlers answer, and
 * what the public cache makes again when it refreshes a kept answer in the background.
 */
export const publicProductReads = {
  list: publicRead(schemas.list, (input) => productService.list(input.query)),
  search: publicRead(schemas.search, (input) => productService.search(input.query)),
  facets: publicRead(schemas.facets, (input) => productService.facets(input.query)),
  get: publicRead(schemas.show, (input) => productService.get(input.params.idOrSlug, undefined)),
  related: publicRead(schemas.related, async (input) => ({ products: await productService.related(input.params.id, input.query.limit) })),
};

export const productController = {
  list: handler(schemas.list, async (req, res) => {
    res.json({ success: true, data: await publicProductReads.list.data(req.validated) });
  }),

  search: handler(schemas.search, async (req, res) => {
    res.json({ success: true, data: await publicProductReads.search.data(req.validated) });
  }),

  /** A public read answered from the response cache: the view still counts. */
  countView(productId: string | undefined) {
    if (productId) productService.countView(productId);
  },

  get: handler(schemas.show, async (req, res) => {
    res.json({ success: true, data: await productService.get(req.validated.params.idOrSlug, viewerOf(req)) });
  }),

  facets: handler(schemas.facets, async (req, res) => {
    res.json({ success: true, data: await publicProductReads.facets.data(req.validated) });
  }),

  addVariant: handler(schemas.addVariant, async (req, res) => {
    const variant = await variantService.add(req.validated.params.id, signedInViewer(req), req.validated.body);
    res.status(201).json({ success: true, data: variant, message: 'Variant added' });
  }),

  updateVariant: handler(schemas.updateVariant, async (req, res) => {
    const { id, variantId } = req.validated.params;
    res.json({ success: true, data: await variantService.update(id, variantId, signedInViewer(req), req.validated.body), message: 'Variant updated' });
  }),

  removeVariant: handler(schemas.removeVariant, async (req, res) => {
    const { id, variantId } = req.validated.params;
    await variantService.remove(id, variantId, signedInViewer(req));
    res.json({ success: true, data: { id: variantId }, message: 'Variant deleted' });
  }),

  related: handler(schemas.related, async (req, res) => {
    res.json({ success: true, data: await publicProductReads.related.data(req.validated) });
  }),

  create: handler(schemas.create, async (req, res) => {
    const product = await productService.create(signedInViewer(req), req.validated.body);
    res.status(201).json({ success: true, data: product, message: 'Product created' });
  }),

  update: handler(schemas.update, async (req, res) => {
    const product = await productService.update(req.validated.params.id, signedInViewer(req), req.validated.body);
    res.json({ success: true, data: product, message: 'Product updated' });
  }),

  remove: handler(schemas.byId, async (req, res) => {
    await productService.remove(req.validated.params.id, signedInViewer(req));
    res.json({ success: true, data: { id: req.validated.params.id }, message: 'Product deleted' });
  }),

  listOwn: handler(schemas.sellerList, async (req, res) => {
    res.json({ success: true, data: await productService.listOwn(currentAuth(req).user.id, req.validated.query) });
  }),
};
