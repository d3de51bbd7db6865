import Joi from 'joi';
import { DISPUTE_STATUSES, PAYOUT_STATUSES, type DisputeStatus, type PayoutStatus } from '../../models';
import type { PageQuery } from '../../platform/utils/pagination';
import { objectOf, oneOf, pagination, uuid } from '../../platform/http/common.schemas';

const FIVE_YEARS_MS = 5 * 366 * 24 * 60 * 60 * 1000;
const THIRTY_DAYS_MS = 30 * 24 * 60 * 60 * 1000;

/** A period as `range` leaves it: both ends set. */
export interface PeriodQuery {
  from: Date;
  to: Date;
}

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

export interface PayoutListQuery extends PageQuery {
  status?: PayoutStatus;
}

export const ledger = { query: objectOf<PageQuery & PeriodQuery>()({ ...pagination, ...period }).custom(range) };
export const sellerStats = { query: objectOf<PeriodQuery>()(period).custom(range) };
export const sellerPayouts = { query: objectOf<PayoutListQuery>()({ ...pagination, status: oneOf(...PAYOUT_STATUSES) }) };

export const adminPayouts = {
  query: objectOf<PayoutListQuery & { sellerId?: string }>()({ ...pagination, status: oneOf(...PAYOUT_STATUSES), sellerId: uuid }),
};
export const runPayouts = { body: Joi.object<Record<string, never>>({}) };
export const adminDisputes = {
  query: objectOf<PageQuery & { status?: DisputeStatus }>()({ ...pagination, status: oneOf(...DISPUTE_STATUSES) }),
};
export const markPayoutPaid = {
  params: objectOf<{ id: string }>()({ id: uuid.required() }),
  notFound: 'Payout',
  body: objectOf<{ reference?: string | null }>()({
    reference: Joi.string().trim().max(255).allow('', null).description('The bank transfer reference'),
  }),
};

export const overview = { query: objectOf<PeriodQuery>()(period).custom(range) };
export const sales = {
  query: objectOf<PeriodQuery & { interval: 'day' | 'week' | 'month' }>()({
    ...period,
    interval: oneOf('day', 'week', 'month').default('day'),
  }).custom(range),
};
export const top = {
  query: objectOf<PeriodQuery & { limit: number }>()({ ...period, limit: Joi.number().integer().min(1).max(100).default(10) }).custom(range),
};
