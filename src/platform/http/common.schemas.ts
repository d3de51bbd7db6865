import Joi from 'joi';
import type { Address } from '../../models';
import { fromMinor, toMinor } from '../utils/money';
import { ISO_COUNTRY_CODES } from './countries';

/** What a joi schema yields once it has validated and converted a value; unknown for what is no schema. */
type ValueOf<S> = S extends Joi.AnySchema<infer V> ? V : unknown;

/**
 * The keys of T, each a schema whose value fits the key's type. The schemas are inferred before
 * they are compared (M), so that joi's factories (`Joi.string<TSchema>()`) do not take their type
 * from T and agree with anything.
 */
type KeysOf<M, T> = { [K in keyof T]-?: K extends keyof M ? (ValueOf<M[K]> extends T[K] ? M[K] : Joi.Schema<T[K]>) : Joi.Schema<T[K]> } & Record<
  Exclude<keyof M, keyof T>,
  never
>;

/**
 * `Joi.object(keys)` typed as the T it yields, checked both ways: a key of T without a schema, a
 * schema without a key of T (spread ones included) or a schema of another type fails to compile.
 * joi's types cannot say whether a key is required or may be null: T says it, and must agree with
 * `.required()`, `.default()` and `.allow(null)`.
 */
export function objectOf<T>(): <M extends Record<string, unknown>>(keys: M & KeysOf<M, T>) => Joi.ObjectSchema<T> {
  return (keys) => Joi.object<T>(keys as Joi.PartialSchemaMap<T>);
}

/** A string among `values`, typed as their union. */
export function oneOf<const V extends string>(...values: readonly V[]): Joi.StringSchema<V> {
  return Joi.string<V>().valid(...values);
}

/** Shared pieces of request schemas; each route file composes its own from these. */
export const uuid = Joi.string().guid({ version: ['uuidv1', 'uuidv4', 'uuidv5', 'uuidv7'], separator: '-' });
export const idParams = objectOf<{ id: string }>()({ id: uuid.required() });
export const email = Joi.string().trim().lowercase().max(255).email({ tlds: false });
export const password = Joi.string().min(8).max(128);
/**
 * A name is printed in mails and dashboards: one line, without control characters (line breaks
 * included) or the bidi overrides that make text read in another order than it is written.
 */
export const personName = Joi.string()
  .trim()
  .min(2)
  .max(100)
  .pattern(/^[^\p{Cc}\p{Zl}\p{Zp}\u202A-\u202E\u2066-\u2069]*$/u, { name: 'one line' })
  .messages({ 'string.pattern.name': '{{#label}} must be one line without control characters' });
/** Free text on one line (no control characters), at most `max` characters. */
export const oneLine = (max: number) => Joi.string().trim().pattern(/^[^\p{Cc}]*$/u, 'one line without control characters').max(max);
export const httpUrl = Joi.string().trim().max(500).uri({ scheme: ['http', 'https'] });
export const opaqueToken = Joi.string().trim().max(200);

export const page = Joi.number().integer().min(1).max(100_000).default(1);
export const limit = Joi.number().integer().min(1).max(100).default(20);
export const pagination = { page, limit };

/**
 * A money input: a number or a string with at most two decimals, as the contract allows. Untyped
 * (a number or a string): each use converts it to the "19.99" string and says so in its type.
 */
export const money = Joi.alternatives()
  .try(Joi.number().precision(2).strict(), Joi.string().trim().pattern(/^\d{1,8}(\.\d{1,2})?$/))
  .messages({ 'alternatives.match': '{{#label}} must be an amount with at most two decimals' });

/** A money input within [minMinor, maxMinor] cents, normalised to the "19.99" string the database and JSON use. */
export function amountWithin(minMinor: number, maxMinor: number, rule: string): Joi.AlternativesSchema<string> {
  return money.custom((value: string | number, helpers) => {
    const minor = toMinor(value);
    if (minor < minMinor || minor > maxMinor) return helpers.message({ custom: `{{#label}} must be ${rule}` });
    return fromMinor(minor);
  });
}

const COUNTRIES = new Set(ISO_COUNTRY_CODES);

/** The fields of a postal address, each as a request takes it (required ones marked so). */
export const addressFields = {
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
};

/** A postal address; `country` is an ISO 3166-1 alpha-2 code. */
export const address = objectOf<Address>()(addressFields);
