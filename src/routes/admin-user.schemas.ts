import Joi from 'joi';
import { idParams, pagination } from './common.schemas';

export const listUsers = {
  query: Joi.object({
    ...pagination,
    role: Joi.string().valid('customer', 'seller', 'admin'),
    status: Joi.string().valid('pending', 'approved', 'rejected', 'suspended'),
    search: Joi.string().trim().max(100).allow(''),
  }),
};

export const getUser = { params: idParams, notFound: 'User' };

export const setStatus = {
  params: idParams,
  notFound: 'User',
  body: Joi.object({
    status: Joi.string().valid('approved', 'suspended').required(),
    reason: Joi.string().trim().max(1000),
  }),
};

export const listSellers = {
  query: Joi.object({
    ...pagination,
    status: Joi.string().valid('pending', 'approved', 'rejected', 'suspended').default('pending'),
    search: Joi.string().trim().max(100).allow(''),
  }),
};

export const approveSeller = { params: idParams, notFound: 'Seller', body: Joi.object({}) };

export const rejectSeller = {
  params: idParams,
  notFound: 'Seller',
  body: Joi.object({ reason: Joi.string().trim().min(3).max(1000).required() }),
};
