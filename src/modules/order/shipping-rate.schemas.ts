import Joi from 'joi';
import { amountWithin, idParams, objectOf, oneLine } from '../../platform/http/common.schemas';
import { ISO_COUNTRY_CODES } from '../../platform/http/countries';
import type { ShippingRateChanges, ShippingRateInput } from './shipping-rate.service';

const COUNTRIES = new Set(ISO_COUNTRY_CODES);
const EVERYWHERE = '*';
const MAX_AMOUNT_MINOR = 99_999_999;

const countryOrEverywhere = Joi.string()
  .trim()
  .uppercase()
  .custom((value: string, helpers) =>
    value === EVERYWHERE || COUNTRIES.has(value) ? value : helpers.message({ custom: '{{#label}} must be an ISO 3166-1 alpha-2 country code, or "*"' }),
  );

const fields = {
  name: oneLine(100).min(1).description('What the customer sees, e.g. Standard, Express'),
  countries: Joi.array<string[]>()
    .items(countryOrEverywhere)
    .min(1)
    .max(250)
    .unique()
    .custom((value: string[], helpers) =>
      value.includes(EVERYWHERE) && value.length > 1 ? helpers.message({ custom: '{{#label}} must be ["*"] alone or country codes without "*"' }) : value,
    )
    .description('ISO 3166-1 alpha-2 codes (any case, stored upper case), each once; or exactly ["*"] for everywhere'),
  price: amountWithin(0, MAX_AMOUNT_MINOR, 'between 0 and 999999.99'),
  freeOver: amountWithin(0, MAX_AMOUNT_MINOR, 'between 0 and 999999.99')
    .allow(null)
    .description("Free when the seller's discounted subtotal of the order reaches this; null: never"),
  estimatedDays: Joi.number().integer().min(0).max(365).allow(null),
};

export const create = {
  body: objectOf<ShippingRateInput>()({
    ...fields,
    name: fields.name.required(),
    countries: fields.countries.required(),
    price: fields.price.required(),
  }),
};

export const update = { params: idParams, notFound: 'ShippingRate', body: objectOf<ShippingRateChanges>()(fields).min(1) };

export const byId = { params: idParams, notFound: 'ShippingRate' };
