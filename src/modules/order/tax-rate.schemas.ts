import Joi from 'joi';
import { addressFields, idParams, objectOf, oneLine } from '../../platform/http/common.schemas';
import type { TaxRateChanges, TaxRateInput } from './tax-rate.service';

/** 0, 1, or a fraction between with at most four decimals, as a string. */
const RATE_TEXT = /^(?:0(?:\.\d{1,4})?|1(?:\.0{1,4})?)$/;

/** A number, or a string, from 0 to 1 with at most four decimals, normalised to the "0.0825" string the database keeps. */
const rate = Joi.alternatives<string>()
  .try(Joi.number().min(0).max(1).precision(4).strict(), Joi.string().trim().pattern(RATE_TEXT))
  .custom((value: number | string) => Number(value).toFixed(4))
  .messages({ 'alternatives.match': '{{#label}} must be a number from 0 to 1 with at most four decimals' })
  .description('0..1 with at most four decimals: 0.0825 is 8.25 %');

const fields = {
  country: addressFields.country.optional(),
  state: oneLine(100).min(1).uppercase().allow(null).description('A state or region of the country (stored upper case); null: the whole country'),
  rate,
  name: oneLine(100).min(1).description('Shown with the tax, e.g. VAT, CA sales tax'),
  appliesToShipping: Joi.boolean().description('Tax the shipping too'),
};

export const create = {
  body: objectOf<TaxRateInput>()({
    ...fields,
    country: fields.country.required(),
    rate: fields.rate.required(),
    name: fields.name.required(),
    appliesToShipping: fields.appliesToShipping.default(false),
  }),
};

export const update = { params: idParams, notFound: 'TaxRate', body: objectOf<TaxRateChanges>()(fields).min(1) };

export const byId = { params: idParams, notFound: 'TaxRate' };
