import Joi from 'joi';
import { PROMOTION_TYPES } from '../../models';
import { amountWithin, idParams, objectOf, oneOf, pagination, uuid } from '../../platform/http/common.schemas';
import type { PageQuery } from '../../platform/utils/pagination';
import type { PromotionChanges, PromotionInput, PromotionListQuery } from './promotion.service';

const MAX_AMOUNT_MINOR = 99_999_999;
const MAX_TARGETS = 100;
const MAX_INT = 2_147_483_647;

const targets = (what: string) =>
  Joi.array<string[]>().items(uuid).min(1).max(MAX_TARGETS).unique().allow(null).description(`At most ${MAX_TARGETS} ${what}, each once; absent or null: no restriction`);

const fields = {
  code: Joi.string()
    .trim()
    .min(3)
    .max(50)
    .pattern(/^[A-Za-z0-9_-]+$/, 'letters, digits, - and _')
    .uppercase()
    .description('3 to 50 letters, digits, - or _; stored upper case, unique in any case'),
  type: oneOf(...PROMOTION_TYPES),
  value: amountWithin(1, MAX_AMOUNT_MINOR, 'greater than 0 with at most two decimals')
    .allow(null)
    .description('percentage: the percent off, above 0 and at most 100 (10 is 10 %); fixed: the amount off; free_shipping: absent or null'),
  minSubtotal: amountWithin(0, MAX_AMOUNT_MINOR, 'between 0 and 999999.99').allow(null).description('The eligible lines must reach this'),
  startsAt: Joi.date().iso().allow(null),
  endsAt: Joi.date().iso().allow(null).description('After startsAt'),
  usageLimit: Joi.number().integer().min(1).max(MAX_INT).allow(null).description('Orders that may use it in all; not below the uses already taken'),
  usageLimitPerCustomer: Joi.number().integer().min(1).max(MAX_INT).allow(null),
  productIds: targets("products (a seller's: their own)"),
  categoryIds: targets('categories'),
  active: Joi.boolean(),
};

export const create = {
  body: objectOf<PromotionInput>()({
    ...fields,
    code: fields.code.required(),
    type: fields.type.required(),
    active: fields.active.default(true),
  }),
};

export const update = { params: idParams, notFound: 'Promotion', body: objectOf<PromotionChanges>()(fields).min(1) };

export const byId = { params: idParams, notFound: 'Promotion' };

export const listPlatform = {
  query: objectOf<PromotionListQuery>()({ ...pagination, sellerId: uuid.description("One seller's promotions instead of the platform's") }),
};

export const listOwn = { query: objectOf<PageQuery>()(pagination) };
