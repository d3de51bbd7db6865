import { TtlCache } from './ttl-cache';

/**
 * Serialized answers of public, anonymous catalog reads, kept for a second or so. Catalog
 * writes in this process clear it at once (services/catalog-cache.ts); other processes serve
 * an answer at most PUBLIC_CACHE_TTL_MS old.
 */
const MAX_BODY_BYTES = 256 * 1024;

export interface CachedResponse {
  body: string;
  /** What a hit needs to know without parsing the body (the id of a product, to count its view). */
  data: { id?: string };
}

const responses = new TtlCache<CachedResponse>(2000);

export function cachedResponse(key: string): CachedResponse | undefined {
  return responses.get(key);
}

export function rememberResponse(key: string, body: string, ttlMs: number, data: CachedResponse['data'] = {}): void {
  if (body.length > MAX_BODY_BYTES) return;
  responses.set(key, { body, data }, ttlMs);
}

export function forgetResponses(): void {
  responses.clear();
}
