import { config } from '../../platform/config';
import { MAX_STALENESS_MS } from '../../platform/db/replicas';
import { redisCommand, redisReady } from '../../platform/redis';
import { logger } from '../../platform/utils/logger';
import { forgetResponses } from '../../platform/utils/response-cache';
import { forgetListingTotals } from './listing-totals';

/**
 * The catalog caches of this process (anonymous responses, listing totals) and their
 * invalidation across processes. A write clears this process's caches at once and bumps a
 * version counter in Redis; every process reads that counter a few times a second and clears
 * its caches when it moved. A counter cannot be missed the way a pub/sub message can (a
 * reconnecting subscriber loses what was published meanwhile). While Redis is not connected the
 * version is unknown, without waiting for Redis: every poll clears the caches, so no answer older
 * than a poll is served, however many writes other processes made meanwhile. Without Redis there
 * is one process, and clearing its caches is enough.
 *
 * With read replicas, an answer made just after a clear may come from a replica that has not yet
 * replayed the write behind it. So every clear is followed by a second one once any usable
 * replica holds that write (MAX_STALENESS_MS later): no answer read before then outlives it,
 * and the answers kept after it include the write, whatever the caches' TTLs.
 */

export const CATALOG_VERSION_POLL_MS = 250;

let lastVersion: string | null | undefined;
let timer: NodeJS.Timeout | undefined;
let polling = false;
let echo: NodeJS.Timeout | undefined;

function versionKey(): string {
  return `${config.redisPrefix}:catalog:version`;
}

function clearNow(): void {
  forgetListingTotals();
  forgetResponses();
}

function clearLocal(): void {
  clearNow();
  if (config.db.replicaUrls.length === 0) return;
  // One pending echo, due MAX_STALENESS_MS after the latest clear: writes in a row push it back.
  clearTimeout(echo);
  echo = setTimeout(() => {
    echo = undefined;
    clearNow();
  }, MAX_STALENESS_MS);
  echo.unref();
}

/** After any catalog or stock write (products, categories, reviews, orders): the next reads of every process see it. */
export function forgetCatalogCaches(): void {
  clearLocal();
  if (!config.redisUrl) return;
  // The others clear theirs when they see the version move, or, while Redis is away, at every poll.
  redisCommand((redis) => redis.incr(versionKey())).catch((error: unknown) =>
    logger.warn('could not announce a catalog change to other processes', { error: (error as Error).message }),
  );
}

/** Changes made elsewhere cannot be seen now: what the caches hold is dropped, and dropped again at the next poll. */
function versionUnknown(): void {
  clearLocal();
  lastVersion = undefined;
}

async function poll(): Promise<void> {
  if (!config.redisUrl || polling) return;
  if (!redisReady()) {
    versionUnknown();
    return;
  }
  polling = true;
  try {
    const version = await redisCommand((redis) => redis.get(versionKey()));
    if (version !== lastVersion) clearLocal();
    lastVersion = version;
  } catch {
    versionUnknown();
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
