import type { Request, Response } from 'express';
import { handler } from '../../platform/http/validate.middleware';
import * as schemas from './cart.schemas';
import { cartService, type CartOwner } from './cart.service';

/** The signed-in user's cart, else the guest cart of the X-Cart-Token (cartAccess made sure one is there). */
function ownerOf(req: Request): CartOwner {
  if (req.auth) return { userId: req.auth.user.id };
  return { token: req.get('x-cart-token') ?? '' };
}

export const cartController = {
  /** A new guest cart, or the caller's cart when they already have one (signed in, or a valid token). */
  async create(req: Request, res: Response) {
    if (req.auth || req.get('x-cart-token')) {
      res.json({ success: true, data: { cart: await cartService.get(ownerOf(req)) } });
      return;
    }
    res.status(201).json({ success: true, data: await cartService.createGuestCart(), message: 'Guest cart created; send its token as X-Cart-Token' });
  },

  async get(req: Request, res: Response) {
    res.json({ success: true, data: { cart: await cartService.get(ownerOf(req)) } });
  },

  addItem: handler(schemas.addItem, async (req, res) => {
    const { productId, variantId, quantity } = req.validated.body;
    res.status(201).json({ success: true, data: { cart: await cartService.addItem(ownerOf(req), { productId, variantId }, quantity) }, message: 'Added to cart' });
  }),

  updateItem: handler(schemas.updateItem, async (req, res) => {
    const cart = await cartService.updateItem(ownerOf(req), req.validated.params.itemId, req.validated.body.quantity);
    res.json({ success: true, data: { cart } });
  }),

  removeItem: handler(schemas.removeItem, async (req, res) => {
    res.json({ success: true, data: { cart: await cartService.removeItem(ownerOf(req), req.validated.params.itemId) }, message: 'Removed from cart' });
  }),

  applyPromo: handler(schemas.applyPromo, async (req, res) => {
    res.json({ success: true, data: { cart: await cartService.applyPromo(ownerOf(req), req.validated.body.code) }, message: 'Code applied' });
  }),

  async removePromo(req: Request, res: Response) {
    res.json({ success: true, data: { cart: await cartService.removePromo(ownerOf(req)) }, message: 'Code removed' });
  },

  quote: handler(schemas.quote, async (req, res) => {
    res.json({ success: true, data: await cartService.quote(ownerOf(req), req.validated.body) });
  }),

  async clear(req: Request, res: Response) {
    res.json({ success: true, data: { cart: await cartService.clear(ownerOf(req)) }, message: 'Cart emptied' });
  },
};
