import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type Joi from 'joi';
import { NotFoundError, ValidationError, type ErrorDetail } from '../utils/errors';
import { describeMiddleware, OPENAPI_META, type RouteInputSchemas } from './openapi';

const options: Joi.ValidationOptions = {
  abortEarly: false,
  allowUnknown: false,
  stripUnknown: false,
  convert: true,
  errors: { wrap: { label: false } },
};

export function joiDetails(error: Joi.ValidationError, source?: string): ErrorDetail[] {
  return error.details.map((detail) => ({
    field: detail.path.length > 0 ? detail.path.join('.') : (source ?? 'body'),
    message: detail.message,
  }));
}

/**
 * Parsed JSON, query strings and multipart fields: arrays and plain objects. Anything else (a raw
 * body's Buffer, a typed array) is bytes, and walking it would visit each byte.
 */
function isParsedContainer(value: unknown): value is Record<string, unknown> | unknown[] {
  if (Array.isArray(value)) return true;
  if (!value || typeof value !== 'object') return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/**
 * What a route that declares no body was sent anyway: one detail per field of an object, one for
 * the whole body otherwise (an array, bytes). No body, `{}` and `[]` are nothing.
 */
function unexpectedBody(body: unknown): ErrorDetail[] {
  if (body === undefined || body === null) return [];
  if (isParsedContainer(body) && !Array.isArray(body)) return Object.keys(body).map((field) => ({ field, message: `${field} is not allowed` }));
  const size = Array.isArray(body) || ArrayBuffer.isView(body) || typeof body === 'string' ? (body as { length: number }).length : 1;
  return size > 0 ? [{ field: 'body', message: 'body is not allowed' }] : [];
}

/** PostgreSQL text cannot hold NUL, and no field of this API has a use for it. */
function nulPaths(value: unknown, path: string, found: string[], depth = 0): string[] {
  if (typeof value === 'string') {
    if (value.includes('\u0000')) found.push(path);
  } else if (isParsedContainer(value) && depth < 8) {
    for (const [key, inner] of Object.entries(value)) nulPaths(inner, path ? `${path}.${key}` : key, found, depth + 1);
  }
  return found;
}

/**
 * Validates params, query and body against joi schemas (unknown keys rejected) and puts the
 * converted values on req.validated. A route without a query or body schema takes none: any
 * query parameter or body field sent is refused (no mass assignment through a route that reads
 * no body), except a raw body the route checks itself (`rawBody`). A malformed path id is a 404
 * of `schemas.notFound`, as the contract says, not a 400.
 */
export function validate(schemas: RouteInputSchemas): RequestHandler {
  // The options set on the schemas once: joi merges options passed to validate() into its
  // defaults on every call, and caches the merge of a schema's own preferences.
  const params = schemas.params?.prefs(options);
  const query = schemas.query?.prefs(options);
  const body = schemas.body?.prefs(options);
  const handler: RequestHandler = (req, _res, next) => {
    const validated: { params?: unknown; query?: unknown; body?: unknown } = {};
    if (params) {
      const { value, error } = params.validate(req.params);
      if (error) throw new NotFoundError(schemas.notFound ?? 'Resource');
      validated.params = value;
    }
    const details: ErrorDetail[] = [...nulPaths(req.query, '', []), ...nulPaths(req.body, '', [])].map((field) => ({
      field: field || 'body',
      message: `${field || 'body'} must not contain NUL characters`,
    }));
    if (details.length > 0) throw new ValidationError(details);
    if (query) {
      const { value, error } = query.validate({ ...req.query });
      if (error) details.push(...joiDetails(error, 'query'));
      validated.query = value;
    } else if (Object.keys(req.query).length > 0) {
      details.push(...Object.keys(req.query).map((field) => ({ field, message: `${field} is not allowed` })));
    }
    if (body) {
      const { value, error } = body.validate(req.body ?? {});
      if (error) details.push(...joiDetails(error, 'body'));
      validated.body = value;
    } else if (!schemas.rawBody) {
      details.push(...unexpectedBody(req.body));
    }
    if (details.length > 0) throw new ValidationError(details);
    req.validated = validated;
    next();
  };
  Object.assign(handler, { [OPENAPI_META]: { schemas } });
  return handler;
}

type InputPart = 'params' | 'query' | 'body';

/** The value an object schema yields; unknown for one without a type (joi's default is any). */
type ValueOf<S> = S extends Joi.ObjectSchema<infer T> ? (0 extends 1 & T ? unknown : T) : never;

/** What validate(schemas) puts on req.validated: the value of each schema the route declares, and nothing else. */
export type Validated<S extends RouteInputSchemas> = {
  [P in InputPart as S extends Record<P, Joi.ObjectSchema> ? P : never]: ValueOf<S[P]>;
};

export type ValidatedRequest<S extends RouteInputSchemas> = Request & { validated: Validated<S> };

export type ValidatedHandler<S extends RouteInputSchemas> = (req: ValidatedRequest<S>, res: Response, next: NextFunction) => void | Promise<void>;

/**
 * A controller that reads its input as `schemas` type it: `req.validated.body` is what
 * `schemas.body` yields, so a schema change that breaks the controller fails to compile. Only a
 * validate() of these same schemas makes that true, and the type system cannot see the route's
 * middleware list: ApiRouter refuses a route whose validate() has other schemas.
 */
export function handler<S extends RouteInputSchemas>(schemas: S, controller: ValidatedHandler<S>): RequestHandler {
  return describeMiddleware<RequestHandler>((req, res, next) => controller(req as ValidatedRequest<S>, res, next), { reads: schemas });
}
