import { Client } from 'pg';
import { logger } from '../utils/logger';
import { getSequelize, onDatabaseClose } from './index';

/**
 * PostgreSQL's LISTEN/NOTIFY for this process: one dedicated connection (not one of the pool's)
 * that listens on the channels asked for. PostgreSQL delivers a notification when the transaction
 * that sent it commits, and never for one that rolled back, so a listener learns of committed
 * changes only, from every process and from SQL run by hand.
 *
 * A listener can miss notifications while its connection is down, so each channel has a state:
 * `live` only while the connection is up and listening. Whoever caches on the strength of the
 * notifications must serve nothing from the cache while the state is not live, and drop the
 * cache when it becomes live again.
 */

export type ListenerState = 'live' | 'down';

interface Channel {
  onNotify: (payload: string) => void;
  onState: (state: ListenerState) => void;
}

const RECONNECT_MS = 1_000;

const channels = new Map<string, Channel>();
let client: Client | undefined;
let connecting: Promise<void> | undefined;
let retry: NodeJS.Timeout | undefined;
let closed = false;

function setState(state: ListenerState): void {
  for (const channel of channels.values()) channel.onState(state);
}

function connectionOptions() {
  const options = getSequelize().config as unknown as {
    host?: string;
    port?: string | number;
    username?: string;
    password?: string;
    database?: string;
    dialectOptions?: { ssl?: unknown };
  };
  return {
    host: options.host,
    port: options.port === undefined ? undefined : Number(options.port),
    user: options.username,
    password: options.password ?? undefined,
    database: options.database,
    ssl: options.dialectOptions?.ssl as boolean | undefined,
    application_name: 'marketplace-listener',
    connectionTimeoutMillis: 5_000,
    keepAlive: true,
  };
}

function scheduleReconnect(): void {
  if (closed || retry || channels.size === 0) return;
  retry = setTimeout(() => {
    retry = undefined;
    void connect();
  }, RECONNECT_MS);
  retry.unref();
}

function lost(error?: Error): void {
  const previous = client;
  client = undefined;
  setState('down');
  if (previous) {
    previous.removeAllListeners();
    // A late error of the dropped connection must not become an uncaught one.
    previous.on('error', () => undefined);
    previous.end().catch(() => undefined);
    if (!closed) logger.warn('database listener connection lost; caches that depend on it are bypassed until it is back', { error: error?.message });
  }
  scheduleReconnect();
}

async function connect(): Promise<void> {
  if (closed || client || connecting) return connecting;
  connecting = (async () => {
    let candidate: Client | undefined;
    try {
      candidate = new Client(connectionOptions());
      const own = candidate;
      own.on('error', (error) => {
        if (client === own) lost(error);
      });
      own.on('end', () => {
        if (client === own) lost();
      });
      own.on('notification', (message) => channels.get(message.channel)?.onNotify(message.payload ?? ''));
      await candidate.connect();
      for (const name of channels.keys()) await candidate.query(`LISTEN "${name}"`);
      if (closed) {
        await candidate.end().catch(() => undefined);
        return;
      }
      client = candidate;
      setState('live');
    } catch (error) {
      candidate?.removeAllListeners();
      candidate?.on('error', () => undefined);
      await candidate?.end().catch(() => undefined);
      logger.warn('database listener could not connect; trying again', { error: (error as Error).message });
      scheduleReconnect();
    }
  })().finally(() => {
    connecting = undefined;
  });
  return connecting;
}

/**
 * Calls `onNotify` with the payload of every notification on `channel` (a plain identifier),
 * and `onState` when listening starts or stops. Connects on first use; reconnects by itself.
 */
export function listen(channel: string, onNotify: (payload: string) => void, onState: (state: ListenerState) => void): void {
  if (!/^[a-z_][a-z0-9_]*$/.test(channel)) throw new Error(`Not a channel name: ${channel}`);
  const current = channels.get(channel);
  if (current && current.onNotify === onNotify && current.onState === onState) return;
  closed = false;
  onDatabaseClose(closeNotifications);
  channels.set(channel, { onNotify, onState });
  if (client) {
    // Listening on a new channel of a live connection: live once PostgreSQL has taken the LISTEN.
    onState('down');
    client.query(`LISTEN "${channel}"`).then(
      () => onState(client ? 'live' : 'down'),
      (error: Error) => lost(error),
    );
    return;
  }
  void connect();
}

/** Stops listening and closes the connection (at shutdown, with the pool). */
export async function closeNotifications(): Promise<void> {
  closed = true;
  clearTimeout(retry);
  retry = undefined;
  await connecting?.catch(() => undefined);
  const current = client;
  client = undefined;
  setState('down');
  channels.clear();
  if (current) {
    current.removeAllListeners();
    current.on('error', () => undefined);
    await current.end().catch(() => undefined);
  }
}
