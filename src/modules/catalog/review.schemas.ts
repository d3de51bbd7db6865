import Joi from 'joi';
import type { PageQuery } from '../../platform/utils/pagination';
import { idParams, objectOf, oneOf, pagination } from '../../platform/http/common.schemas';

const rating = Joi.number().integer().min(1).max(5);
const title = Joi.string().trim().max(200).allow('', null);
const comment = Joi.string().trim().min(1).max(5000);

export interface ReviewBody {
  rating: number;
  title?: string | null;
  comment: string;
}

export const listForProduct = {
  params: idParams,
  notFound: 'Product',
  query: objectOf<PageQuery & { sortBy: 'newest' | 'rating' }>()({
    ...pagination,
    sortBy: oneOf('newest', 'rating').default('newest'),
  }),
};

export const create = {
  params: idParams,
  notFound: 'Product',
  body: objectOf<ReviewBody>()({ rating: rating.required(), title, comment: comment.required() }),
};

export const update = {
  params: idParams,
  notFound: 'Review',
  body: objectOf<Partial<ReviewBody>>()({ rating, title, comment }).min(1),
};

export const remove = { params: idParams, notFound: 'Review' };
