import Joi from 'joi';
import { MAX_CART_ITEM_QUANTITY } from '../../models';
import { addressFields, objectOf, uuid } from '../../platform/http/common.schemas';
import type { QuoteInput } from './cart.service';
import { shippingRates } from './order.schemas';

const quantity = Joi.number().strict().integer().max(MAX_CART_ITEM_QUANTITY);

export const create = {};
export const get = {};
export const clear = {};

export const addItem = {
  body: objectOf<{ productId?: string; variantId?: string; quantity: number }>()({
    productId: uuid
      .when('variantId', { not: Joi.exist(), then: Joi.required() })
      .description('A product with one active variant (required without variantId); with variantId, the product of that variant'),
    variantId: uuid.description('The variant to add (required for a product with several variants)'),
    quantity: quantity.min(1).required(),
  }),
};

export const updateItem = {
  params: objectOf<{ itemId: string }>()({ itemId: uuid.required() }),
  notFound: 'CartItem',
  body: objectOf<{ quantity: number }>()({ quantity: quantity.min(0).required().description('0 removes the line') }),
};

export const removeItem = {
  params: objectOf<{ itemId: string }>()({ itemId: uuid.required() }),
  notFound: 'CartItem',
};

/** A code as customers type it: letters, digits, dashes and underscores. */
export const promoCode = Joi.string().trim().min(1).max(50).pattern(/^[A-Za-z0-9_-]+$/, 'a promotion code');

export const applyPromo = { body: objectOf<{ code: string }>()({ code: promoCode.required() }) };
export const removePromo = {};

export const quote = {
  body: objectOf<QuoteInput>()({
    shippingAddress: objectOf<QuoteInput['shippingAddress']>()({
      country: addressFields.country,
      state: addressFields.state,
      postalCode: addressFields.postalCode.optional().allow('', null),
    }).required(),
    shippingRates: shippingRates.description("A shipping rate per seller id (default: each seller's cheapest rate to the country)"),
  }),
};
