import Joi from 'joi';

/** Shared pieces of request schemas; each route file composes its own from these. */
export const uuid = Joi.string().guid({ version: ['uuidv1', 'uuidv4', 'uuidv5', 'uuidv7'], separator: '-' });
export const idParams = Joi.object({ id: uuid.required() });
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
export const httpUrl = Joi.string().trim().max(500).uri({ scheme: ['http', 'https'] });
export const opaqueToken = Joi.string().trim().max(200);

export const page = Joi.number().integer().min(1).max(100_000).default(1);
export const limit = Joi.number().integer().min(1).max(100).default(20);
export const pagination = { page, limit };

/** A money input: a number or a string with at most two decimals, as the contract allows. */
export const money = Joi.alternatives()
  .try(Joi.number().precision(2).strict(), Joi.string().trim().pattern(/^\d{1,8}(\.\d{1,2})?$/))
  .messages({ 'alternatives.match': '{{#label}} must be an amount with at most two decimals' });
