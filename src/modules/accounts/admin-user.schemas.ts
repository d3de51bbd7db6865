import Joi from 'joi';
import type { UserRole, UserStatus } from '../../models';
import type { PageQuery } from '../../platform/utils/pagination';
import { idParams, objectOf, oneOf, pagination } from '../../platform/http/common.schemas';

export interface ListUsersQuery extends PageQuery {
  role?: UserRole;
  status?: UserStatus;
  search?: string;
}

export const listUsers = {
  query: objectOf<ListUsersQuery>()({
    ...pagination,
    role: oneOf('customer', 'seller', 'admin'),
    status: oneOf('pending', 'approved', 'rejected', 'suspended'),
    search: Joi.string().trim().max(100).allow(''),
  }),
};

export const getUser = { params: idParams, notFound: 'User' };

export interface SetStatusBody {
  status: 'approved' | 'suspended';
  reason?: string;
}

export const setStatus = {
  params: idParams,
  notFound: 'User',
  body: objectOf<SetStatusBody>()({
    status: oneOf('approved', 'suspended').required(),
    reason: Joi.string().trim().max(1000),
  }),
};

export interface ListSellersQuery extends PageQuery {
  status: UserStatus;
  search?: string;
}

export const listSellers = {
  query: objectOf<ListSellersQuery>()({
    ...pagination,
    status: oneOf('pending', 'approved', 'rejected', 'suspended').default('pending'),
    search: Joi.string().trim().max(100).allow(''),
  }),
};

export const approveSeller = { params: idParams, notFound: 'Seller', body: Joi.object<Record<string, never>>({}) };

export const rejectSeller = {
  params: idParams,
  notFound: 'Seller',
  body: objectOf<{ reason: string }>()({ reason: Joi.string().trim().min(3).max(1000).required() }),
};
