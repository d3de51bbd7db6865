import { config } from '../config';

/**
 * Totals of catalog listings, kept briefly per distinct filter. Counting every matching row is
 * most of the database's work for a listing page; a total a few seconds old is fine for
 * "page 3 of 41". Catalog writes in this process forget every total at once; other processes
 * see a changed total within LISTING_TOTALS_TTL_MS.
 */
const MAX_ENTRIES = 10_000;
const totals = new Map<string, { total: number; expiresAt: number }>();

export function cachedTotal(key: string): number | undefined {
  const entry = totals.get(key);
  if (!entry) return undefined;
  if (entry.expiresAt <= Date.now()) {
    totals.delete(key);
    return undefined;
  }
  return entry.total;
}

export function rememberTotal(key: string, total: number): void {
  const ttl = config.listingTotalsTtlMs;
  if (ttl <= 0) return;
  if (totals.size >= MAX_ENTRIES) totals.delete(totals.keys().next().value as string);
  totals.set(key, { total, expiresAt: Date.now() + ttl });
}

/** After a catalog write: the next listing of every filter counts again. */
export function forgetListingTotals(): void {
  totals.clear();
}
