import { config } from '../../platform/config';
import { TtlCache } from '../../platform/utils/ttl-cache';

/**
 * Totals of catalog listings, kept briefly per distinct filter. Counting every matching row is
 * most of the database's work for a listing page; a total a few seconds old is fine for
 * "page 3 of 41". Catalog writes forget every total at once, in every process (catalog-cache.ts).
 */
const totals = new TtlCache<number>(10_000);

export function cachedTotal(key: string): number | undefined {
  return totals.get(key);
}

/** Bumped by every clear: a total counted before a clear is not kept after it. */
let generation = 0;

export function totalsGeneration(): number {
  return generation;
}

export function rememberTotal(key: string, total: number, since = generation): void {
  if (since !== generation) return;
  totals.set(key, total, config.listingTotalsTtlMs);
}

/** After a catalog write: the next listing of every filter counts again. */
export function forgetListingTotals(): void {
  generation += 1;
  totals.clear();
}
