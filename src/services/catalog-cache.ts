import { config } from '../config';
import { getRedis } from '../integrations/redis';
import { logger } from '../utils/logger';
import { forgetResponses } from '../utils/response-cache';
import { forgetListingTotals } from './listing-totals';

/**
 * The catalog caches of this process (anonymous responses, listing totals) and their
 * invalidation across processes. A write clears this process's caches at once and bumps a
 * version counter in Redis; every process reads that counter a few times a second and clears
 * its caches when it moved. A counter cannot be missed the way a pub/sub message can (a
 * reconnecting subscriber loses what was published meanwhile), and while Redis cannot be read a
 * process serves no cached catalog answer at all rather than possibly stale ones. Without Redis
 * there is one process, and clearing its caches is enough.
 */

export const CATALOG_VERSION_POLL_MS = 250;

let lastVersion: string | null | undefined;
let timer: NodeJS.Timeout | undefined;
let polling = false;

function versionKey(): string {
  return `${config.redisPrefix}:catalog:version`;
}

function clearLocal(): void {
  forgetListingTotals();
  forgetResponses();
}

/** After any catalog or stock write (products, categories, reviews, orders): the next reads of every process see it. */
export function forgetCatalogCaches(): void {
  clearLocal();
  getRedis()
    ?.incr(versionKey())
    .catch((error: unknown) => logger.warn('could not announce a catalog change to other processes', { error: (error as Error).message }));
}

async function poll(): Promise<void> {
  const redis = getRedis();
  if (!redis || polling) return;
  polling = true;
  try {
    const version = await redis.get(versionKey());
    if (version !== lastVersion) clearLocal();
    lastVersion = version;
  } catch {
    // Changes made elsewhere cannot be seen now: serve nothing from the caches until they can.
    clearLocal();
    lastVersion = undefined;
  } finally {
    polling = false;
  }
}

/** Starts following other processes' catalog writes (with REDIS_URL); call once per API process. */
export function startCatalogCacheSync(): void {
  if (!config.redisUrl || timer) return;
  timer = setInterval(() => void poll(), CATALOG_VERSION_POLL_MS);
  timer.unref();
  void poll();
}

export function stopCatalogCacheSync(): void {
  clearInterval(timer);
  timer = undefined;
  lastVersion = undefined;
}
