import { TtlCache } from './ttl-cache';

/**
 * Serialized answers of public, anonymous catalog reads, kept for a second or so. Catalog
 * writes in this process clear it at once (services/catalog-cache.ts); other processes serve
 * an answer at most PUBLIC_CACHE_TTL_MS old.
 */
const MAX_BODY_BYTES = 256 * 1024;

/**
 * What the whole cache may hold. Bodies are JavaScript strings (up to two bytes a character),
 * so a character counts two bytes; a few hundred more for the entry itself.
 */
export const RESPONSE_CACHE_MAX_BYTES = 32 * 1024 * 1024;
const ENTRY_OVERHEAD_BYTES = 200;

export interface CachedResponse {
  body: string;
  /** What a hit needs to know without parsing the body (the id of a product, to count its view). */
  data: { id?: string };
}

const responses = new TtlCache<CachedResponse>({
  maxEntries: 2000,
  maxBytes: RESPONSE_CACHE_MAX_BYTES,
  sizeOf: (key, value) => 2 * (key.length + value.body.length) + ENTRY_OVERHEAD_BYTES,
});

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

/** What the cache holds now (for tests and metrics). */
export function responseCacheStats(): { entries: number; bytes: number } {
  return { entries: responses.size, bytes: responses.bytes };
}
