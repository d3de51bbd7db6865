import type { Application, Request, RequestHandler, Response } from 'express';
import type Joi from 'joi';
import { config } from '../config';
import { logger } from '../utils/logger';
import { describeMiddleware, registeredRoutes, type RouteInputSchemas } from './openapi';
import type { Validated } from './validate.middleware';
import { forgetResponse, keptResponse, rememberResponse, responseGeneration, type CachedResponse } from '../utils/response-cache';

/** How to make a route's anonymous answer without a request: what lets the cache refresh it in the background. */
export interface PublicRefresh<S extends RouteInputSchemas> {
  /** The route's input schemas: the object its validate() takes (ApiRouter holds them equal). */
  schemas: S;
  /** The `data` of the route's answer to an anonymous caller with this input, as its handler makes it. */
  data: (input: Validated<S>) => Promise<unknown>;
}

/** A route's refresh: its schemas and the data of its anonymous answer, typed by those schemas. */
export function publicRead<S extends RouteInputSchemas>(schemas: S, data: (input: Validated<S>) => Promise<unknown>): PublicRefresh<S> {
  return { schemas, data };
}

export interface PublicCacheOptions<S extends RouteInputSchemas = RouteInputSchemas> {
  /** Runs for every answer served from the cache, with the cached `data` (e.g. to count a view). */
  onHit?: (data: { id?: string }) => void;
  /**
   * With it, an answer past its TTL is still served for as long again (`X-Cache: STALE`) while one
   * fresh answer is made in the background: no visitor waits for the refresh of a page asked for
   * at least once every two TTLs.
   */
  refresh?: PublicRefresh<S>;
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
function sendKept(res: Response, kept: CachedResponse, state: 'HIT' | 'STALE'): void {
  if (kept.etag) res.set('ETag', kept.etag);
  res.set('X-Cache', state).type('application/json').send(kept.body);
}

/** The ETag Express would give `body` (the application's `etag` setting), or none when that setting is off. */
function etagOf(app: Application, body: Buffer): string | undefined {
  const etagFn = app.get('etag fn') as ((body: Buffer, encoding?: string) => string | undefined) | undefined;
  return typeof etagFn === 'function' ? etagFn(body) : undefined;
}

/** The id of a product answer, for onHit. */
function idOf(data: unknown): string | undefined {
  const id = (data as { id?: unknown } | null | undefined)?.id;
  return typeof id === 'string' ? id : undefined;
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
function cacheKey(req: Request, routeSchemas?: RouteInputSchemas): { key: string; input: Record<string, unknown> } | undefined {
  const schemas = routeSchemas ?? schemasOf(req);
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
  return { key: `${(req.route as { path: string }).path} ${canonical(input)}`, input };
}

/**
 * Marks key as being answered: requests for it wait for that answer instead of running the same
 * statement. `done` ends it and hands the waiters what was kept, unless a catalog write was
 * announced since `since` (what was read may predate it); without an answer they run their own.
 */
function answering(key: string): { since: number; done: (made?: CachedResponse) => void } {
  let settle: (made: CachedResponse | undefined) => void = () => undefined;
  const promise = new Promise<CachedResponse | undefined>((resolve) => (settle = resolve));
  inFlight.set(key, promise);
  const since = responseGeneration();
  return {
    since,
    done: (made) => {
      if (inFlight.get(key) === promise) inFlight.delete(key);
      settle(made && responseGeneration() === since ? made : undefined);
    },
  };
}

/** Keeps the JSON answer `bytes` for key, encoded and hashed once here: every hit sends these bytes with this ETag. */
function keep(key: string, bytes: Buffer, app: Application, data: CachedResponse['data'], since: number, ttl: number, staleMs: number): CachedResponse {
  const made: CachedResponse = { body: bytes, etag: etagOf(app, bytes), data };
  rememberResponse(key, made, ttl, since, staleMs);
  return made;
}

/**
 * Makes a fresh answer for key in the background, from the input its stale one was made for, and
 * keeps it. Requests that miss meanwhile wait for it, as for a miss being answered. When it cannot
 * be made (the product is gone, the database does not answer), the stale answer is dropped: the
 * next request goes to the handler, which answers whatever the case is.
 */
function refreshInBackground<S extends RouteInputSchemas>(key: string, input: Validated<S>, refresh: PublicRefresh<S>, app: Application, keepId: boolean): void {
  if (inFlight.has(key)) return;
  const { since, done } = answering(key);
  const ttl = config.publicCacheTtlMs;
  void (async () => {
    let made: CachedResponse | undefined;
    try {
      const data = await refresh.data(input);
      // res.json's text: the application sets no JSON replacer, spaces or escaping.
      made = keep(key, Buffer.from(JSON.stringify({ success: true, data }), 'utf8'), app, keepId ? { id: idOf(data) } : {}, since, ttl, ttl);
    } catch (error) {
      forgetResponse(key);
      logger.warn('public cache refresh failed', { key, error: error instanceof Error ? error.message : String(error) });
    } finally {
      done(made);
    }
  })();
}

/**
 * Serves anonymous GETs of public catalog data from a short-lived cache of their JSON, so a
 * popular page costs one query per PUBLIC_CACHE_TTL_MS, not one per visitor. Keyed by the
 * validated input, not the raw URL: spellings of one query share one entry, and junk parameters
 * cannot fill the cache. Signed-in callers (who may see drafts and private fields) always reach
 * the handler. Only 200 JSON answers are kept, whether sent with res.json or as JSON text.
 * Requests for a key that arrive while its answer is being made wait for that answer instead of
 * running the same statement again (when an entry expires under load, one request refills it).
 * A route that says how to refresh its answer (`refresh`) has it refreshed in the background
 * instead, its stale answer served meanwhile.
 */
export function cachePublicResponse<S extends RouteInputSchemas>(options: PublicCacheOptions<S> = {}): RequestHandler {
  const { onHit, refresh } = options;
  const middleware: RequestHandler = (req, res, next) => {
    const ttl = config.publicCacheTtlMs;
    if (ttl <= 0 || req.method !== 'GET' || req.get('authorization')) return next();
    const found = cacheKey(req, refresh?.schemas);
    if (found === undefined) return next();
    const { key, input } = found;
    const kept = keptResponse(key);
    if (kept && (kept.fresh || refresh)) {
      if (!kept.fresh && refresh) refreshInBackground(key, input as Validated<S>, refresh, res.app, onHit !== undefined);
      if (onHit) onHit(kept.response.data);
      sendKept(res, kept.response, kept.fresh ? 'HIT' : 'STALE');
      return undefined;
    }
    const pending = inFlight.get(key);
    if (pending) {
      void pending.then((made) => {
        if (!made) return next();
        if (onHit) onHit(made.data);
        sendKept(res, made, 'HIT');
      });
      return undefined;
    }
    // What the handler reads may predate a catalog write announced while it runs: then it is not kept.
    const { since, done } = answering(key);
    // An answer that is not kept (an error, a client gone) lets the waiters run their own.
    res.once('close', () => done());
    let data: { id?: string } = {};
    const json = res.json.bind(res);
    res.json = (body: { data?: unknown }) => {
      if (onHit) data = { id: idOf(body?.data) };
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
      const made = keep(key, Buffer.from(body, 'utf8'), res.app, data, since, ttl, refresh ? ttl : 0);
      if (made.etag) res.set('ETag', made.etag);
      res.set('X-Cache', 'MISS');
      done(made);
      return send(made.body);
    };
    return next();
  };
  // ApiRouter then refuses the route unless its validate() takes these same schemas.
  return refresh ? describeMiddleware(middleware, { reads: refresh.schemas }) : middleware;
}

export const publicCache = cachePublicResponse();
