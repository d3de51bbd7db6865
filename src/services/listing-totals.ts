import { config } from '../config';
import { TtlCache } from '../utils/ttl-cache';

/**
 * Totals of catalog listings, kept briefly per distinct filter. Counting every matching row is
 * most of the database's work for a listing page; a total a few seconds old is fine for
 * "page 3 of 41". Catalog writes in this process forget every total at once; other processes
 * see a changed total within LISTING_TOTALS_TTL_MS.
 */
const totals = new TtlCache<number>(10_000);

export function cachedTotal(key: string): number | undefined {
  return totals.get(key);
}

export function rememberTotal(key: string, total: number): void {
  totals.set(key, total, config.listingTotalsTtlMs);
}

/** After a catalog write: the next listing of every filter counts again. */
export function forgetListingTotals(): void {
  totals.clear();
}
