import type { Request, RequestHandler, Response } from 'express';
import type Joi from 'joi';
import { config } from '../config';
import { registeredRoutes, type RouteInputSchemas } from './openapi';
import { cachedResponse, rememberResponse, responseGeneration, type CachedResponse } from '../utils/response-cache';

export interface PublicCacheOptions {
  /** Runs for every answer served from the cache, with the cached `data` (e.g. to count a view). */
  onHit?: (data: { id?: string }) => void;
}

/** As validate() reads input (unknown keys refused, values converted), so both agree on what is valid. */
const VALIDATION: Joi.ValidationOptions = { abortEarly: true, allowUnknown: false, convert: true };

const routeSchemas = new Map<string, RouteInputSchemas | null>();

/** What a request being answered for a key will leave in the cache, or undefined when it keeps nothing. */
const inFlight = new Map<string, Promise<CachedResponse | undefined>>();

/**
 * Sends a kept answer: its bytes and the ETag computed when it was kept (Express then neither
 * encodes nor hashes the body, and still answers a matching If-None-Match with 304).
 */
function sendKept(res: Response, kept: CachedResponse): void {
  if (kept.etag) res.set('ETag', kept.etag);
  res.set('X-Cache', 'HIT').type('application/json').send(kept.body);
}

/** The ETag Express would give `body` (its `etag` setting), or none when that setting is off. */
function etagOf(res: Response, body: Buffer): string | undefined {
  const etagFn = res.app.get('etag fn') as ((body: Buffer, encoding?: string) => string | undefined) | undefined;
  return typeof etagFn === 'function' ? etagFn(body) : undefined;
}

/** The schemas of the validate() of the route being served, found by its path template. */
function schemasOf(req: Request): RouteInputSchemas | undefined {
  const path = (req.route as { path?: unknown } | undefined)?.path;
  if (typeof path !== 'string') return undefined;
  const key = `${req.method.toLowerCase()} ${path}`;
  if (!routeSchemas.has(key)) {
    const route = registeredRoutes().find((candidate) => `${candidate.method} ${candidate.path}` === key);
    routeSchemas.set(key, route?.meta.schemas ?? null);
  }
  return routeSchemas.get(key) ?? undefined;
}

/** JSON with object keys sorted: the same values give the same text whatever order they came in. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, inner]) => inner !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, inner]) => `${JSON.stringify(key)}:${canonical(inner)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * The cache key of a request: the route's path template with its params and query as the route's
 * own schemas convert them, so `page=001`, `page=1` and no page at all (the default) are one entry,
 * as are parameters in another order. Undefined when the input would not validate (or the route
 * has no schemas): such a request goes to the handler, which answers it, and is never cached.
 */
function cacheKey(req: Request): string | undefined {
  const schemas = schemasOf(req);
  if (!schemas) return undefined;
  const input: Record<string, unknown> = {};
  for (const part of ['params', 'query'] as const) {
    const raw = { ...(req[part] as Record<string, unknown>) };
    const schema = schemas[part];
    if (!schema) {
      if (Object.keys(raw).length > 0) return undefined;
      continue;
    }
    const { value, error } = schema.validate(raw, VALIDATION);
    if (error) return undefined;
    input[part] = value;
  }
  return `${(req.route as { path: string }).path} ${canonical(input)}`;
}

/**
 * Serves anonymous GETs of public catalog data from a short-lived cache of their JSON, so a
 * popular page costs one query per PUBLIC_CACHE_TTL_MS, not one per visitor. Keyed by the
 * validated input, not the raw URL: spellings of one query share one entry, and junk parameters
 * cannot fill the cache. Signed-in callers (who may see drafts and private fields) always reach
 * the handler. Only 200 JSON answers are kept, whether sent with res.json or as JSON text.
 * Requests for a key that arrive while its answer is being made wait for that answer instead of
 * running the same statement again (when an entry expires under load, one request refills it).
 */
export function cachePublicResponse(options: PublicCacheOptions = {}): RequestHandler {
  return (req, res, next) => {
    const ttl = config.publicCacheTtlMs;
    if (ttl <= 0 || req.method !== 'GET' || req.get('authorization')) return next();
    const key = cacheKey(req);
    if (key === undefined) return next();
    const hit = cachedResponse(key);
    if (hit !== undefined) {
      if (options.onHit) options.onHit(hit.data);
      sendKept(res, hit);
      return undefined;
    }
    const pending = inFlight.get(key);
    if (pending) {
      void pending.then((made) => {
        if (!made) return next();
        if (options.onHit) options.onHit(made.data);
        sendKept(res, made);
      });
      return undefined;
    }
    let settle: (made: CachedResponse | undefined) => void = () => undefined;
    const promise = new Promise<CachedResponse | undefined>((resolve) => (settle = resolve));
    inFlight.set(key, promise);
    const done = (made?: CachedResponse) => {
      if (inFlight.get(key) === promise) inFlight.delete(key);
      settle(made);
    };
    // An answer that is not kept (an error, a client gone) lets the waiters run their own.
    res.once('close', () => done());
    // What the handler reads may predate a catalog write announced while it runs: then it is not kept.
    const since = responseGeneration();
    let data: { id?: string } = {};
    const json = res.json.bind(res);
    res.json = (body: { data?: { id?: string } }) => {
      if (options.onHit) data = { id: body?.data?.id };
      return json(body);
    };
    // res.json ends in res.send with the JSON text; handlers that serialize themselves (deep
    // category trees) send JSON text directly. Either way the text is what is kept.
    const send = res.send.bind(res);
    res.send = (body?: unknown) => {
      if (res.statusCode !== 200 || typeof body !== 'string' || !/^application\/json\b/.test(String(res.get('Content-Type')))) {
        done();
        return send(body);
      }
      // Encoded and hashed once, here: every hit sends these bytes with this ETag.
      const bytes = Buffer.from(body, 'utf8');
      const kept: CachedResponse = { body: bytes, etag: etagOf(res, bytes), data };
      rememberResponse(key, kept, ttl, since);
      if (kept.etag) res.set('ETag', kept.etag);
      res.set('X-Cache', 'MISS');
      // Waiters take it only when no catalog write was announced meanwhile (as the cache itself).
      done(responseGeneration() === since ? kept : undefined);
      return send(bytes);
    };
    return next();
  };
}

export const publicCache = cachePublicResponse();
