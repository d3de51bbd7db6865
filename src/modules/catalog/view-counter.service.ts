import crypto from 'node:crypto';
import { config } from '../../platform/config';
import { queryRows } from '../../platform/db/query';
import { redisCommand, redisReady } from '../../platform/redis';
import { logger } from '../../platform/utils/logger';

/**
 * Product views are counted without a write per read: reads add to a counter (a Redis hash
 * shared by every process when REDIS_URL is set, else this process's memory), and a repeating
 * job adds the counts to products.view_count in one UPDATE. Views are approximate by nature:
 * counts of a process that dies between flushes are lost, nothing else is.
 */

export const FLUSH_VIEWS_EVERY_MS = 30_000;

const pending = new Map<string, number>();

function redisKey(): string {
  return `${config.redisPrefix}:catalog:views`;
}

function addTo(target: Map<string, number>, productId: string, count: number): void {
  target.set(productId, (target.get(productId) ?? 0) + count);
}

/** Counts one view of the product; never throws and never waits for the database. */
export function recordView(productId: string): void {
  // Without Redis, or while it is away, counted here and written by this process's next flush.
  if (!config.redisUrl || !redisReady()) {
    addTo(pending, productId, 1);
    return;
  }
  redisCommand((redis) => redis.hincrby(redisKey(), productId, 1)).catch((error: unknown) => {
    logger.warn('could not count a product view in redis; counting it in memory', { error: (error as Error).message });
    addTo(pending, productId, 1);
  });
}

async function applyCounts(counts: Map<string, number>): Promise<void> {
  if (counts.size === 0) return;
  const ids = [...counts.keys()].sort();
  await queryRows(
    `UPDATE products p SET view_count = p.view_count + v.n
     FROM unnest($ids::uuid[], $counts::int[]) AS v(id, n)
     WHERE p.id = v.id`,
    { ids, counts: ids.map((id) => counts.get(id)!) },
  );
}

/** Takes the Redis hash atomically (RENAME): a view counted meanwhile goes to the next flush. */
async function takeRedisCounts(): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  // While Redis is away its counts wait there for a later flush.
  if (!config.redisUrl || !redisReady()) return counts;
  const taken = `${redisKey()}:flushing:${crypto.randomUUID()}`;
  try {
    await redisCommand((redis) => redis.rename(redisKey(), taken));
  } catch (error) {
    if (/no such key/i.test((error as Error).message)) return counts;
    throw error;
  }
  const values = await redisCommand((redis) => redis.hgetall(taken));
  await redisCommand((redis) => redis.del(taken));
  for (const [productId, count] of Object.entries(values)) {
    const n = Number.parseInt(count, 10);
    if (n > 0) addTo(counts, productId, n);
  }
  return counts;
}

/**
 * Adds every counted view to products.view_count in one statement and resets the counters.
 * On a database error the counts are kept (in memory) for the next flush.
 */
export async function flushViews(): Promise<void> {
  const counts = new Map(pending);
  pending.clear();
  try {
    for (const [productId, n] of await takeRedisCounts()) addTo(counts, productId, n);
  } catch (error) {
    logger.warn('could not read product views from redis', { error: (error as Error).message });
  }
  try {
    await applyCounts(counts);
  } catch (error) {
    for (const [productId, n] of counts) addTo(pending, productId, n);
    throw error;
  }
}
