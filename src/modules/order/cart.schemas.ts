import Joi from 'joi';
import { MAX_CART_ITEM_QUANTITY } from '../../models';
import { objectOf, uuid } from '../../platform/http/common.schemas';

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
