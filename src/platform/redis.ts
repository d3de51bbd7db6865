import { Redis, type RedisOptions } from 'ioredis';
import { config } from './config';
import { logger } from './utils/logger';

const clients = new Set<Redis>();
let shared: Redis | undefined;
/** The shared connection has been ready once: from then on, not ready means lost, never "about to connect". */
let sharedWasReady = false;

/**
 * How long a command of the shared connection may wait for its answer. Redis answers in well under
 * a millisecond: a command this late means a Redis (or a network) that stopped answering while
 * the socket stayed open. The connection is then dropped and made again, so that the next
 * requests do without Redis at once instead of each waiting as long.
 */
export const REDIS_COMMAND_TIMEOUT_MS = 500;

/** A command of the shared connection that got no answer within REDIS_COMMAND_TIMEOUT_MS. */
export class RedisTimeoutError extends Error {
  constructor() {
    super(`Redis did not answer within ${REDIS_COMMAND_TIMEOUT_MS} ms`);
    this.name = 'RedisTimeoutError';
  }
}

/** Raised at once, without sending anything, when the shared connection cannot take a command. */
export class RedisUnavailableError extends Error {
  constructor() {
    super('Redis is not connected');
    this.name = 'RedisUnavailableError';
  }
}

/** A new connection to REDIS_URL; BullMQ workers need their own (blocking) ones. */
export function createRedisConnection(options: RedisOptions = {}): Redis {
  if (!config.redisUrl) throw new Error('REDIS_URL is not set');
  const connection = new Redis(config.redisUrl, { lazyConnect: false, enableOfflineQueue: true, ...options });
  connection.on('error', (error: Error) => logger.warn('redis connection error', { error: error.message }));
  clients.add(connection);
  connection.once('end', () => clients.delete(connection));
  return connection;
}

function createSharedConnection(): Redis {
  const connection = createRedisConnection({
    // Commands given before the first connection wait for it (a process starts with Redis up);
    // from then on none waits in a queue for a Redis that is not connected: a command fails at
    // once and its caller does without Redis (redisCommand below). A failed attempt to connect
    // fails what waited.
    enableOfflineQueue: true,
    maxRetriesPerRequest: 0,
    // A command left unanswered by a lost connection is not sent again: its caller has moved on.
    autoResendUnfulfilledCommands: false,
  });
  let lost = false;
  connection.on('ready', () => {
    connection.options.enableOfflineQueue = false;
    sharedWasReady = true;
    if (lost) logger.info('redis is back: rate limits count in redis again, catalog caches follow other processes again');
    lost = false;
  });
  connection.on('close', () => {
    if (lost || !sharedWasReady || connection !== shared) return;
    lost = true;
    logger.warn('redis connection lost: rate limits count per process, catalog caches are not trusted, jobs wait in the outbox');
  });
  return connection;
}

/** The shared command connection (rate limits, view counters, catalog versions, readiness), or undefined without REDIS_URL. */
export function getRedis(): Redis | undefined {
  if (!config.redisUrl) return undefined;
  shared ??= createSharedConnection();
  return shared;
}

/** Whether the shared connection takes a command now: connected, and its socket open for writing. */
export function redisReady(): boolean {
  const redis = getRedis();
  return redis?.status === 'ready' && redis.stream?.writable === true;
}

const CONNECTING = new Set(['wait', 'connecting', 'connect']);

/** Until the first connection of the process is made (never again): at most the command timeout. */
async function firstConnection(redis: Redis): Promise<void> {
  if (sharedWasReady || !CONNECTING.has(redis.status)) return;
  await new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      redis.off('ready', done);
      redis.off('close', done);
      resolve();
    };
    const timer = setTimeout(done, REDIS_COMMAND_TIMEOUT_MS);
    redis.once('ready', done);
    redis.once('close', done);
  });
}

/**
 * Runs a command on the shared connection when it is connected; else fails at once with
 * RedisUnavailableError, sending nothing (only a process's very first connection is waited for,
 * at most REDIS_COMMAND_TIMEOUT_MS). A command that times out drops the connection, which is made
 * again: the commands after it fail at once until Redis answers.
 */
export async function redisCommand<T>(run: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = getRedis();
  if (!redis) throw new RedisUnavailableError();
  await firstConnection(redis);
  if (!redisReady()) throw new RedisUnavailableError();
  try {
    return await answeredInTime(run(redis));
  } catch (error) {
    if (error instanceof RedisTimeoutError && redis.status === 'ready') {
      logger.warn('redis stopped answering; dropping the connection to make a new one', { timeoutMs: REDIS_COMMAND_TIMEOUT_MS });
      redis.disconnect(true);
    }
    throw error;
  }
}

/**
 * The answer, or RedisTimeoutError after REDIS_COMMAND_TIMEOUT_MS. A busy process runs its late
 * timers before it reads its sockets: an answer that arrived while it was busy is read before
 * the time is declared up, so a pause of this process is not taken for Redis's.
 */
function answeredInTime<T>(command: Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(
      () =>
        setImmediate(() => {
          if (!settled) reject(new RedisTimeoutError());
        }),
      REDIS_COMMAND_TIMEOUT_MS,
    );
    command.then(
      (value) => {
        settled = true;
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        settled = true;
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

export async function closeRedis(): Promise<void> {
  shared = undefined;
  sharedWasReady = false;
  // quit() on a connection that is not ready would wait for a reconnect that may never come.
  await Promise.all(
    [...clients].map((client) => (client.status === 'ready' ? client.quit().catch(() => client.disconnect()) : client.status === 'end' ? undefined : client.disconnect())),
  );
  clients.clear();
}
