import Joi from 'joi';
import { FULFILLMENT_STATUSES, ORDER_STATUSES } from '../../models';
import { address, httpUrl, idParams, objectOf, oneLine, oneOf, pagination, uuid } from '../../platform/http/common.schemas';
import type { AdminStatusInput } from './cancellation.service';
import type { CheckoutInput } from './checkout.service';
import type { FulfilInput, SellerOrderQuery } from './fulfillment.service';
import type { AdminOrderQuery, OrderListQuery } from './order.service';

export const trackingNumber = oneLine(100).min(1);
export const trackingUrl = httpUrl;
const note = Joi.string().trim().max(1000);

/** Idempotency-Key: 1 to 255 visible ASCII characters (a UUID is a good choice). */
export const idempotencyKey = Joi.string().pattern(/^[\x21-\x7e]{1,255}$/).label('Idempotency-Key');

/** `{<sellerId>: <rateId>}`: at most one rate per seller, for at most 100 sellers (a cart's line limit). */
export const shippingRates = Joi.object<Record<string, string>>().pattern(uuid, uuid.required()).max(100);

export const checkout = {
  body: objectOf<CheckoutInput>()({
    // Exactly one of the two; the error names shippingAddress when neither or both are sent.
    shippingAddress: address
      .when('shippingAddressId', { is: Joi.exist(), then: Joi.forbidden(), otherwise: Joi.required() })
      .description('Where to ship; required unless shippingAddressId is sent, and refused beside it'),
    shippingAddressId: uuid.description('One of your saved addresses (GET /api/me/addresses), instead of shippingAddress'),
    billingAddress: address.allow(null),
    shippingRates: shippingRates.description('A shipping rate per seller id (default: each seller\'s cheapest rate to the country)'),
    notes: note.allow('', null),
  }),
};

export const list = {
  query: objectOf<OrderListQuery>()({ ...pagination, status: oneOf(...ORDER_STATUSES) }),
};

export const byId = { params: idParams, notFound: 'Order' };

export const cancel = {
  params: idParams,
  notFound: 'Order',
  body: objectOf<{ reason?: string | null }>()({ reason: Joi.string().trim().max(500).allow('', null) }),
};

export const createIntent = { body: objectOf<{ orderId: string }>()({ orderId: uuid.required() }) };

const dateRange = {
  from: Joi.date().iso(),
  to: Joi.date().iso().when('from', { is: Joi.exist(), then: Joi.date().min(Joi.ref('from')) }),
};

export const adminList = {
  query: objectOf<AdminOrderQuery>()({
    ...pagination,
    status: oneOf(...ORDER_STATUSES),
    userId: uuid,
    sellerId: uuid,
    disputed: Joi.boolean().description('true: orders whose payment was disputed'),
    ...dateRange,
  }),
};

export const adminSetStatus = {
  params: idParams,
  notFound: 'Order',
  body: objectOf<AdminStatusInput>()({
    status: oneOf(...ORDER_STATUSES).required(),
    trackingNumber,
    trackingUrl,
    note,
  }),
};

export const sellerList = {
  query: objectOf<SellerOrderQuery>()({
    ...pagination,
    status: oneOf(...ORDER_STATUSES),
    fulfillmentStatus: oneOf(...FULFILLMENT_STATUSES),
  }),
};

export const fulfil = {
  params: idParams,
  notFound: 'Order',
  body: objectOf<FulfilInput>()({
    itemIds: Joi.array<string[]>().items(uuid).min(1).max(100).unique().description('Your lines to ship; all of them when absent'),
    trackingNumber,
    trackingUrl,
  }),
};
