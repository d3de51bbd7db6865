import { TtlCache } from './ttl-cache';

/**
 * Serialized answers of public, anonymous catalog reads, kept for a second or so. Catalog
 * writes clear it in every process (modules/catalog/catalog-cache.ts).
 */
const MAX_BODY_BYTES = 256 * 1024;

/** What the whole cache may hold: the bodies' bytes, the keys (two bytes a character) and a few hundred bytes per entry. */
export const RESPONSE_CACHE_MAX_BYTES = 32 * 1024 * 1024;
const ENTRY_OVERHEAD_BYTES = 200;

export interface CachedResponse {
  /** The JSON answer as the bytes sent, so that a hit neither encodes nor hashes it again. */
  body: Buffer;
  /** The answer's ETag, computed once when it is kept (none when the application's `etag` setting is off). */
  etag?: string;
  /** What a hit needs to know without parsing the body (the id of a product, to count its view). */
  data: { id?: string };
}

interface Entry {
  response: CachedResponse;
  /** Until when the answer is fresh; the entry may outlive it (held while stale, see rememberResponse). */
  freshUntil: number;
}

const responses = new TtlCache<Entry>({
  maxEntries: 2000,
  maxBytes: RESPONSE_CACHE_MAX_BYTES,
  sizeOf: (key, entry) => 2 * key.length + entry.response.body.length + ENTRY_OVERHEAD_BYTES,
});

/**
 * Bumped by every clear. An answer computed from data read before a clear must not be kept
 * after it: callers note the generation when they start reading and pass it back to remember.
 */
let generation = 0;

export function responseGeneration(): number {
  return generation;
}

/** The answer kept for key, fresh or (within the time it may be served stale) not. */
export function keptResponse(key: string): { response: CachedResponse; fresh: boolean } | undefined {
  const entry = responses.get(key);
  return entry && { response: entry.response, fresh: entry.freshUntil > Date.now() };
}

/**
 * Keeps an answer fresh for ttlMs, and held staleMs longer: what keptResponse returns stale,
 * for a caller that serves it while it makes a fresh one. Not kept when a clear came since
 * `since`, the generation noted before its data was read.
 */
export function rememberResponse(key: string, response: CachedResponse, ttlMs: number, since = generation, staleMs = 0): void {
  if (response.body.length > MAX_BODY_BYTES || since !== generation || ttlMs <= 0) return;
  responses.set(key, { response, freshUntil: Date.now() + ttlMs }, ttlMs + Math.max(0, staleMs));
}

/** Drops the answer kept for key (one whose fresh answer could not be made). */
export function forgetResponse(key: string): void {
  responses.delete(key);
}

export function forgetResponses(): void {
  generation += 1;
  responses.clear();
}

/** What the cache holds now (for tests and metrics). */
export function responseCacheStats(): { entries: number; bytes: number } {
  return { entries: responses.size, bytes: responses.bytes };
}
