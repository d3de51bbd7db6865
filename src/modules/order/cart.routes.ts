import { cartController as controller } from './cart.controller';
import { cartAccess, optionalAuth } from '../accounts';
import { validate } from '../../platform/http/validate.middleware';
import { ApiRouter } from '../../platform/http/openapi';
import { promoRateLimit } from '../../platform/http/rate-limit.middleware';
import * as schemas from './cart.schemas';

const CART_ERRORS = ['404 CART_NOT_FOUND'];

export const cartRoutes = new ApiRouter('/api/cart', 'Cart')
  .post(
    '/',
    {
      summary: 'Create a guest cart (no credentials), or get your cart',
      description:
        'Without a Bearer token or X-Cart-Token, answers 201 with a new guest cart and its token, shown only once. ' +
        'With one of them, answers 200 with that cart (no cartToken).',
      status: [201, 200],
      returns: 'cartToken (201 only), cart',
      response: { cartToken: { type: 'string' }, cart: { $ref: '#/components/schemas/Cart' } },
      optional: ['cartToken'],
      requestHeaders: [{ name: 'X-Cart-Token', description: "A guest cart's token: answers 200 with that cart", schema: { type: 'string' } }],
      errors: CART_ERRORS,
    },
    optionalAuth,
    validate(schemas.create),
    controller.create,
  )
  .get('/', { summary: 'Your cart at current prices', returns: 'cart', response: { cart: { $ref: '#/components/schemas/Cart' } }, errors: CART_ERRORS }, cartAccess, validate(schemas.get), controller.get)
  .delete('/', { summary: 'Empty your cart', returns: 'cart', response: { cart: { $ref: '#/components/schemas/Cart' } }, errors: CART_ERRORS }, cartAccess, validate(schemas.clear), controller.clear)
  .post(
    '/items',
    {
      example: { productId: '00000000-0000-4000-8000-000000000000', quantity: 1 },
      summary: 'Add a variant, or a product that has one active variant (adds to the quantity already in the cart)',
      status: 201,
      returns: 'cart',
      response: { cart: { $ref: '#/components/schemas/Cart' } },
      errors: ['404 PRODUCT_NOT_FOUND', '404 VARIANT_NOT_FOUND', '400 VARIANT_REQUIRED', '409 INSUFFICIENT_STOCK', '409 CART_CHANGED', '400 CART_FULL', ...CART_ERRORS],
    },
    cartAccess,
    validate(schemas.addItem),
    controller.addItem,
  )
  .patch(
    '/items/:itemId',
    {
      example: { quantity: 2 },
      summary: 'Set the quantity of a line (0 removes it)',
      returns: 'cart',
      response: { cart: { $ref: '#/components/schemas/Cart' } },
      errors: ['404 CART_ITEM_NOT_FOUND', '400 PRODUCT_UNAVAILABLE', '409 INSUFFICIENT_STOCK', ...CART_ERRORS],
    },
    cartAccess,
    validate(schemas.updateItem),
    controller.updateItem,
  )
  .delete(
    '/items/:itemId',
    { summary: 'Remove a line', returns: 'cart', response: { cart: { $ref: '#/components/schemas/Cart' } }, errors: ['404 CART_ITEM_NOT_FOUND', ...CART_ERRORS] },
    cartAccess,
    validate(schemas.removeItem),
    controller.removeItem,
  )
  .post(
    '/promo',
    {
      example: { code: 'SUMMER10' },
      summary: 'Put a promotion code on the cart (one code; it replaces the one there)',
      description: 'The code must fit the cart now; checkout checks it again and refuses the order with 409 PROMO_NOT_APPLICABLE when it no longer does.',
      returns: 'cart (with promoCode)',
      response: { cart: { $ref: '#/components/schemas/Cart' } },
      errors: ['404 PROMO_NOT_FOUND', '409 PROMO_NOT_APPLICABLE', '429 RATE_LIMIT_EXCEEDED', ...CART_ERRORS],
    },
    promoRateLimit,
    cartAccess,
    validate(schemas.applyPromo),
    controller.applyPromo,
  )
  .delete(
    '/promo',
    { summary: 'Take the promotion code off the cart', returns: 'cart', response: { cart: { $ref: '#/components/schemas/Cart' } }, errors: CART_ERRORS },
    cartAccess,
    validate(schemas.removePromo),
    controller.removePromo,
  )
  .post(
    '/quote',
    {
      example: { shippingAddress: { country: 'US', state: 'CA', postalCode: '94103' } },
      summary: 'The totals checkout would charge now, per line and per seller, for a destination',
      description:
        "Prices the cart's available lines with the cart's code, each seller's shipping (the chosen rate, else the cheapest covering the country) " +
        'and the tax of the destination, by the same function checkout uses. Nothing is written.',
      returns: 'subtotal, discountAmount, shippingAmount, taxAmount, totalAmount, shipping per seller, lines',
      response: { $ref: '#/components/schemas/Quote' },
      errors: ['400 CART_EMPTY', '409 SHIPPING_UNAVAILABLE', '409 PROMO_NOT_APPLICABLE', ...CART_ERRORS],
    },
    cartAccess,
    validate(schemas.quote),
    controller.quote,
  );
