import Joi from 'joi';
import { idParams, pagination } from './common.schemas';

const rating = Joi.number().integer().min(1).max(5);
const title = Joi.string().trim().max(200).allow('', null);
const comment = Joi.string().trim().min(1).max(5000);

export const listForProduct = {
  params: idParams,
  notFound: 'Product',
  query: Joi.object({
    ...pagination,
    sortBy: Joi.string().valid('newest', 'rating').default('newest'),
  }),
};

export const create = {
  params: idParams,
  notFound: 'Product',
  body: Joi.object({ rating: rating.required(), title, comment: comment.required() }),
};

export const update = {
  params: idParams,
  notFound: 'Review',
  body: Joi.object({ rating, title, comment }).min(1),
};

export const remove = { params: idParams, notFound: 'Review' };
