import Joi from 'joi';
import { TRANSACTION_STATUSES, TRANSACTION_TYPES } from '../models';
import { money, pagination, uuid } from './common.schemas';
import { toMinor, fromMinor } from '../utils/money';

export const createIntent = { body: Joi.object({ orderId: uuid.required() }) };

export const confirm = {
  body: Joi.object({
    orderId: uuid.required(),
    paymentIntentId: Joi.string().trim().pattern(/^pi_[A-Za-z0-9_]{1,250}$/, 'a Stripe PaymentIntent id').required(),
  }),
};

export const byOrder = { params: Joi.object({ orderId: uuid.required() }), notFound: 'Order' };

/** Stripe's event is read by its signature check, over the exact bytes it signed. */
export const webhook = { rawBody: true } as const;

const positiveAmount = money.custom((value: string | number, helpers) => {
  const minor = toMinor(value);
  return minor > 0 ? fromMinor(minor) : helpers.message({ custom: '{{#label}} must be greater than 0' });
});

export const refund = {
  params: Joi.object({ id: uuid.required() }),
  notFound: 'Order',
  body: Joi.object({
    amount: positiveAmount.description('Default: everything paid and not refunded yet'),
    reason: Joi.string().trim().max(500).allow('', null),
    restock: Joi.boolean().description('Return the stock of the lines (with a refund of everything left only)'),
  }),
};

export const adminTransactions = {
  query: Joi.object({
    ...pagination,
    status: Joi.string().valid(...TRANSACTION_STATUSES),
    type: Joi.string().valid(...TRANSACTION_TYPES),
    surplus: Joi.boolean().description('true: only payments beyond the one that paid their order (refunded automatically) and their refunds'),
    from: Joi.date().iso(),
    to: Joi.date().iso().when('from', { is: Joi.exist(), then: Joi.date().min(Joi.ref('from')) }),
  }),
};
