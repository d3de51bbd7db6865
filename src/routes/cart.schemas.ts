import Joi from 'joi';
import { MAX_CART_ITEM_QUANTITY } from '../models';
import { uuid } from './common.schemas';

const quantity = Joi.number().strict().integer().max(MAX_CART_ITEM_QUANTITY);

export const create = {};
export const get = {};
export const clear = {};

export const addItem = {
  body: Joi.object({
    productId: uuid.required(),
    quantity: quantity.min(1).required(),
  }),
};

export const updateItem = {
  params: Joi.object({ itemId: uuid.required() }),
  notFound: 'CartItem',
  body: Joi.object({ quantity: quantity.min(0).required().description('0 removes the line') }),
};

export const removeItem = {
  params: Joi.object({ itemId: uuid.required() }),
  notFound: 'CartItem',
};
