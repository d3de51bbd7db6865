/**
 * Serialized answers of public, anonymous catalog reads, kept for a second or so. Catalog
 * writes in this process clear it at once (services/catalog-cache.ts); other processes serve
 * an answer at most PUBLIC_CACHE_TTL_MS old.
 */
const MAX_ENTRIES = 2000;
const MAX_BODY_BYTES = 256 * 1024;
export interface CachedResponse {
  body: string;
  /** What a hit needs to know without parsing the body (the id of a product, to count its view). */
  data: { id?: string };
}

const entries = new Map<string, CachedResponse & { expiresAt: number }>();

export function cachedResponse(key: string): CachedResponse | undefined {
  const entry = entries.get(key);
  if (!entry) return undefined;
  if (entry.expiresAt <= Date.now()) {
    entries.delete(key);
    return undefined;
  }
  return entry;
}

export function rememberResponse(key: string, body: string, ttlMs: number, data: CachedResponse['data'] = {}): void {
  if (ttlMs <= 0 || body.length > MAX_BODY_BYTES) return;
  if (entries.size >= MAX_ENTRIES) entries.delete(entries.keys().next().value as string);
  entries.set(key, { body, data, expiresAt: Date.now() + ttlMs });
}

export function forgetResponses(): void {
  entries.clear();
}
