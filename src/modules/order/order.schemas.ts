import Joi from 'joi';
import { FULFILLMENT_STATUSES, ORDER_STATUSES, type Address } from '../../models';
import { httpUrl, idParams, objectOf, oneLine, oneOf, pagination, uuid } from '../../platform/http/common.schemas';
import { ISO_COUNTRY_CODES } from './countries';
import type { AdminStatusInput } from './cancellation.service';
import type { CheckoutInput } from './checkout.service';
import type { FulfilInput, SellerOrderQuery } from './fulfillment.service';
import type { AdminOrderQuery, OrderListQuery } from './order.service';

const COUNTRIES = new Set(ISO_COUNTRY_CODES);


/** A postal address; `country` is an ISO 3166-1 alpha-2 code. */
export const address = objectOf<Address>()({
  firstName: oneLine(100).min(1).required(),
  lastName: oneLine(100).min(1).required(),
  address1: oneLine(200).min(1).required(),
  address2: oneLine(200).allow('', null),
  city: oneLine(100).min(1).required(),
  state: oneLine(100).allow('', null),
  postalCode: oneLine(20).min(1).required(),
  country: Joi.string()
    .trim()
    .uppercase()
    .required()
    .custom((value: string, helpers) => (COUNTRIES.has(value) ? value : helpers.message({ custom: '{{#label}} must be an ISO 3166-1 alpha-2 country code' })))
    .description('ISO 3166-1 alpha-2 code, e.g. GB'),
  phone: Joi.string().trim().pattern(/^\+?[0-9 ()./-]{3,30}$/, 'a phone number').allow('', null),
});

export const trackingNumber = oneLine(100).min(1);
export const trackingUrl = httpUrl;
const note = Joi.string().trim().max(1000);

/** Idempotency-Key: 1 to 255 visible ASCII characters (a UUID is a good choice). */
export const idempotencyKey = Joi.string().pattern(/^[\x21-\x7e]{1,255}$/).label('Idempotency-Key');

export const checkout = {
  body: objectOf<CheckoutInput>()({
    shippingAddress: address.required(),
    billingAddress: address.allow(null),
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
