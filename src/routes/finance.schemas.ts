import Joi from 'joi';
import { DISPUTE_STATUSES, PAYOUT_STATUSES } from '../models';
import { pagination, uuid } from './common.schemas';

const FIVE_YEARS_MS = 5 * 366 * 24 * 60 * 60 * 1000;
const THIRTY_DAYS_MS = 30 * 24 * 60 * 60 * 1000;

/** from < to, at most five years apart; by default the last 30 days. `to` is exclusive. */
function range(value: { from?: Date; to?: Date }, helpers: Joi.CustomHelpers) {
  const to = value.to ?? new Date();
  const from = value.from ?? new Date(to.getTime() - THIRTY_DAYS_MS);
  if (from.getTime() >= to.getTime()) return helpers.message({ custom: 'from must be before to' });
  if (to.getTime() - from.getTime() > FIVE_YEARS_MS) return helpers.message({ custom: 'from and to must be at most five years apart' });
  return { ...value, from, to };
}

const period = {
  from: Joi.date().iso().description('Start of the period (inclusive, ISO 8601); default: 30 days before `to`'),
  to: Joi.date().iso().description('End of the period (exclusive, ISO 8601); default: now'),
};

export const ledger = { query: Joi.object({ ...pagination, ...period }).custom(range) };
export const sellerStats = { query: Joi.object(period).custom(range) };
export const sellerPayouts = { query: Joi.object({ ...pagination, status: Joi.string().valid(...PAYOUT_STATUSES) }) };

export const adminPayouts = { query: Joi.object({ ...pagination, status: Joi.string().valid(...PAYOUT_STATUSES), sellerId: uuid }) };
export const runPayouts = { body: Joi.object({}) };
export const adminDisputes = { query: Joi.object({ ...pagination, status: Joi.string().valid(...DISPUTE_STATUSES) }) };
export const markPayoutPaid = {
  params: Joi.object({ id: uuid.required() }),
  notFound: 'Payout',
  body: Joi.object({ reference: Joi.string().trim().max(255).allow('', null).description('The bank transfer reference') }),
};

export const overview = { query: Joi.object(period).custom(range) };
export const sales = {
  query: Joi.object({ ...period, interval: Joi.string().valid('day', 'week', 'month').default('day') }).custom(range),
};
export const top = { query: Joi.object({ ...period, limit: Joi.number().integer().min(1).max(100).default(10) }).custom(range) };
