import Joi from 'joi';
import { RETURN_STATUSES } from '../../models';
import { idParams, objectOf, oneLine, oneOf, pagination, uuid } from '../../platform/http/common.schemas';
import type { ReturnInput, ReturnListQuery } from './return.service';

const note = Joi.string().trim().max(1000).allow('', null);

export const request = {
  params: idParams,
  notFound: 'Order',
  body: objectOf<ReturnInput>()({
    items: Joi.array()
      .items(
        objectOf<ReturnInput['items'][number]>()({
          orderItemId: uuid.required(),
          quantity: Joi.number().strict().integer().min(1).max(1000).required(),
          reason: oneLine(500).min(1).required(),
        }),
      )
      .min(1)
      .max(100)
      .required(),
    note,
  }),
};

export const list = { query: objectOf<ReturnListQuery>()({ ...pagination, status: oneOf(...RETURN_STATUSES) }) };

export const decide = { params: idParams, notFound: 'Return', body: objectOf<{ note?: string | null }>()({ note }) };

export const receive = {
  params: idParams,
  notFound: 'Return',
  body: objectOf<{ restock: boolean }>()({ restock: Joi.boolean().strict().required().description('Put the returned units back in stock') }),
};
