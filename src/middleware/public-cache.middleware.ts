import type { RequestHandler } from 'express';
import { config } from '../config';
import { cachedResponse, rememberResponse } from '../utils/response-cache';

export interface PublicCacheOptions {
  /** Runs for every answer served from the cache, with the cached `data` (e.g. to count a view). */
  onHit?: (data: { id?: string }) => void;
}

/**
 * Serves anonymous GETs of public catalog data from a short-lived cache of their JSON (keyed by
 * the full URL), so a popular page costs one query per PUBLIC_CACHE_TTL_MS, not one per
 * visitor. Signed-in callers (who may see drafts and private fields) always reach the handler.
 * Only 200 answers are kept; a request that would fail validation is never answered from it.
 */
export function cachePublicResponse(options: PublicCacheOptions = {}): RequestHandler {
  return (req, res, next) => {
    const ttl = config.publicCacheTtlMs;
    if (ttl <= 0 || req.method !== 'GET' || req.get('authorization')) return next();
    const key = req.originalUrl;
    const hit = cachedResponse(key);
    if (hit !== undefined) {
      if (options.onHit) options.onHit(hit.data);
      res.set('X-Cache', 'HIT').type('application/json').send(hit.body);
      return undefined;
    }
    const json = res.json.bind(res);
    res.json = (body: { data?: { id?: string } }) => {
      if (res.statusCode !== 200) return json(body);
      const text = JSON.stringify(body);
      rememberResponse(key, text, ttl, options.onHit ? { id: body.data?.id } : {});
      return res.set('X-Cache', 'MISS').type('application/json').send(text);
    };
    return next();
  };
}

export const publicCache = cachePublicResponse();
