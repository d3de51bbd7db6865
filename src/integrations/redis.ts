import { Redis, type RedisOptions } from 'ioredis';
import { config } from '../config';
import { logger } from '../utils/logger';

const clients = new Set<Redis>();
let shared: Redis | undefined;

/** A new connection to REDIS_URL; BullMQ workers need their own (blocking) ones. */
export function createRedisConnection(options: RedisOptions = {}): Redis {
  if (!config.redisUrl) throw new Error('REDIS_URL is not set');
  const connection = new Redis(config.redisUrl, { lazyConnect: false, enableOfflineQueue: true, ...options });
  connection.on('error', (error: Error) => logger.warn('redis connection error', { error: error.message }));
  clients.add(connection);
  connection.once('end', () => clients.delete(connection));
  return connection;
}

/** The shared command connection (rate limits, view counters, readiness), or undefined without REDIS_URL. */
export function getRedis(): Redis | undefined {
  if (!config.redisUrl) return undefined;
  shared ??= createRedisConnection({ maxRetriesPerRequest: 2 });
  return shared;
}

export async function closeRedis(): Promise<void> {
  shared = undefined;
  // A connection already ending would make quit() wait for a reconnect that never comes.
  const open = [...clients].filter((client) => client.status !== 'end' && client.status !== 'close');
  await Promise.all(open.map((client) => client.quit().catch(() => client.disconnect())));
  clients.clear();
}
