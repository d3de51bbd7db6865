import Joi from 'joi';
import { WEBHOOK_EVENT_TYPES } from '../../models';
import { idParams, objectOf, oneLine, pagination, uuid } from '../../platform/http/common.schemas';
import type { PageQuery } from '../../platform/utils/pagination';
import type { EndpointChanges, EndpointInput } from './endpoint.service';

const url = Joi.string().trim().max(2000).uri({ scheme: ['http', 'https'] }).description('https in production; never a private, loopback or link-local address');
const events = Joi.array()
  .items(Joi.string().valid(...WEBHOOK_EVENT_TYPES))
  .min(1)
  .max(WEBHOOK_EVENT_TYPES.length)
  .unique()
  .description(`Any of ${WEBHOOK_EVENT_TYPES.join(', ')}`);
const description = oneLine(500).allow('', null);

export const create = { body: objectOf<EndpointInput>()({ url: url.required(), events: events.required(), description }) };

export const update = {
  params: idParams,
  notFound: 'WebhookEndpoint',
  body: objectOf<EndpointChanges>()({ url, events, description, active: Joi.boolean().strict() }).min(1),
};

export const byId = { params: idParams, notFound: 'WebhookEndpoint' };

export const deliveries = { params: idParams, notFound: 'WebhookEndpoint', query: objectOf<PageQuery>()(pagination) };

export const redeliver = {
  params: objectOf<{ id: string; deliveryId: string }>()({ id: uuid.required(), deliveryId: uuid.required() }),
  notFound: 'WebhookDelivery',
};
