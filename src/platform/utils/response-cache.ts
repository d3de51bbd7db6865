import { TtlCache } from './ttl-cache';

/**
 * Serialized answers of public, anonymous catalog reads, kept for a second or so. Catalog
 * writes clear it in every process (modules/catalog/catalog-cache.ts).
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

/**
 * Bumped by every clear. An answer computed from data read before a clear must not be kept
 * after it: callers note the generation when they start reading and pass it back to remember.
 */
let generation = 0;

export function responseGeneration(): number {
  return generation;
}

export function cachedResponse(key: string): CachedResponse | undefined {
  return responses.get(key);
}

export function rememberResponse(key: string, body: string, ttlMs: number, data: CachedResponse['data'] = {}, since = generation): void {
  if (body.length > MAX_BODY_BYTES || since !== generation) return;
  responses.set(key, { body, data }, ttlMs);
}

export function forgetResponses(): void {
  generation += 1;
  responses.clear();
}

/** What the cache holds now (for tests and metrics). */
export function responseCacheStats(): { entries: number; bytes: number } {
  return { entries: responses.size, bytes: responses.bytes };
}
