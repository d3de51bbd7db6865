import Joi from 'joi';
import { TRANSACTION_STATUSES, TRANSACTION_TYPES } from '../../models';
import { idParams, money, objectOf, oneLine, oneOf, pagination, uuid } from '../../platform/http/common.schemas';
import { toMinor, fromMinor } from '../../platform/utils/money';
import type { RefundInput } from './refund.service';
import type { TransactionQuery } from './payment-transactions.service';

export const createIntent = { body: objectOf<{ orderId: string }>()({ orderId: uuid.required() }) };

export const confirm = {
  body: objectOf<{ orderId: string; paymentIntentId: string }>()({
    orderId: uuid.required(),
    paymentIntentId: Joi.string().trim().pattern(/^pi_[A-Za-z0-9_]{1,250}$/, 'a Stripe PaymentIntent id').required(),
  }),
};

export const byOrder = { params: objectOf<{ orderId: string }>()({ orderId: uuid.required() }), notFound: 'Order' };

export const markPaid = {
  params: idParams,
  notFound: 'Order',
  body: objectOf<{ reference?: string | null }>()({ reference: oneLine(255).allow('', null).description('The bank transfer or receipt reference') }),
};

/** Stripe's event is read by its signature check, over the exact bytes it signed. */
export const webhook = { rawBody: true } as const;

/** Normalised to the "19.99" string. */
const positiveAmount: Joi.AlternativesSchema<string> = money.custom((value: string | number, helpers) => {
  const minor = toMinor(value);
  return minor > 0 ? fromMinor(minor) : helpers.message({ custom: '{{#label}} must be greater than 0' });
});

export const refund = {
  params: objectOf<{ id: string }>()({ id: uuid.required() }),
  notFound: 'Order',
  body: objectOf<RefundInput>()({
    amount: positiveAmount.description('Default: everything paid and not refunded yet'),
    reason: Joi.string().trim().max(500).allow('', null),
    restock: Joi.boolean().description('Return the stock of the lines (with a refund of everything left only)'),
  }),
};

export const adminTransactions = {
  query: objectOf<TransactionQuery>()({
    ...pagination,
    status: oneOf(...TRANSACTION_STATUSES),
    type: oneOf(...TRANSACTION_TYPES),
    surplus: Joi.boolean().description('true: only payments beyond the one that paid their order (refunded automatically) and their refunds'),
    from: Joi.date().iso(),
    to: Joi.date().iso().when('from', { is: Joi.exist(), then: Joi.date().min(Joi.ref('from')) }),
  }),
};
