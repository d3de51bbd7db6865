import { AsyncLocalStorage } from 'node:async_hooks';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { config } from '../config';
import { logger } from '../utils/logger';
import { asDatabaseError, getSequelize, logStatement, SESSION_SETTINGS, type PgConnection } from './index';
import { queryRows, runPrepared, toStatement } from './query';

/**
 * Read replicas (DATABASE_REPLICA_URLS): the catalog's reads and the statistics go to a streaming
 * replica that is caught up with the primary, everything else to the primary.
 *
 * Our own router rather than Sequelize's `replication` option: Sequelize sends every read of a
 * model to a replica (also the reads a write depends on), cannot tell a replica that lags or is
 * down from one that is fine (it waits on a dead one for its connect timeout, every time), and
 * knows nothing of a client that has just written. Here only the statements a service names
 * (queryReadRows) may go to a replica, and only when:
 *
 * - the request is a GET or HEAD (a request that may write reads the primary throughout, so
 *   nothing a write depends on is read from a replica; jobs and commands, which run outside any
 *   request, read the primary too);
 * - its client did not write within PIN_WINDOW_MS (read-your-writes: the HTTP layer tells,
 *   through runWithReadRouting, see http/read-your-writes.middleware.ts);
 * - some replica is usable: it answered the last health check, and had then replayed the WAL the
 *   primary had flushed at a check less than MAX_STALENESS_MS ago (the checks run every TICK_MS:
 *   the primary's position is read first, then each replica's replayed position), so it holds
 *   every commit acknowledged more than MAX_STALENESS_MS ago; a replica whose checks stop passing
 *   (lagging, down, or checks that stall) stops being used within MAX_STALENESS_MS.
 *
 * A replica is never waited on: one whose connection fails, refuses or times out is marked down
 * at once (until a check passes again) and the statement runs on the primary; statements in
 * flight on a replica that a check finds down are abandoned and run on the primary; a replica
 * whose connections are all busy is passed over rather than queued on.
 */

/** How often the primary's and replicas' WAL positions are read. */
export const TICK_MS = 250;
/**
 * A usable replica holds every commit acknowledged this long ago. A replica that keeps up is
 * about two ticks behind at worst (the position it had replayed at a check was the primary's at
 * the check before, or newer): this bound keeps the contract's "a catalog write is visible
 * through every process within 1 s" for reads that do not hit a cache.
 */
export const MAX_STALENESS_MS = 3 * TICK_MS;
/** How long a client's reads go to the primary after its last write: longer than any usable replica's lag. */
export const PIN_WINDOW_MS = 2000 + 2 * TICK_MS;

const CONNECT_TIMEOUT_MS = 1000;
/** A check not answered by then finds its server down (a busy machine may take a tick's time). */
const CHECK_TIMEOUT_MS = 2 * TICK_MS;
/** Positions of the primary kept: a replica further behind than these checks is not usable anyway. */
const HISTORY = Math.ceil(MAX_STALENESS_MS / TICK_MS) + 1;
/** A backstop only: a replica that stops answering is found by the next check and its statements moved. */
const QUERY_TIMEOUT_MS = 10_000;

/** What the HTTP layer tells the router about the request being served. */
export interface ReadRouting {
  /** The request may change data (not GET or HEAD): all its statements read the primary. */
  primaryOnly: boolean;
  /** Whether its client wrote within PIN_WINDOW_MS; asked at the request's first routed read, once. */
  pinned(): Promise<boolean>;
}

const routing = new AsyncLocalStorage<ReadRouting>();

/** Runs `work` (a request's handling) with its routing facts, which queryReadRows reads. */
export function runWithReadRouting<T>(context: ReadRouting, work: () => T): T {
  return routing.run(context, work);
}

const LOST = Symbol('replica lost');

/** A WAL position ('16/B374D848') as a number that orders as positions do. */
function lsnValue(text: string): bigint {
  const [high, low] = text.split('/');
  return (BigInt(`0x${high}`) << 32n) + BigInt(`0x${low}`);
}

/** The host, port and database of a URL, for logs: never its password. */
function describe(url: string): string {
  const parsed = new URL(url);
  return `${parsed.hostname}:${parsed.port || 5432}${parsed.pathname}`;
}

/** The session settings Sequelize gives its connections (connection-manager.js), so that rows and dates read the same. */
function sessionSettings(): string {
  const timezone = String(getSequelize().options.timezone ?? '+00:00');
  const zone = /^[+-]\d{2}:\d{2}$/.test(timezone) ? `INTERVAL '${timezone}' HOUR TO MINUTE` : `'${timezone.replace(/'/g, "''")}'`;
  return `SET standard_conforming_strings=on; SET client_min_messages TO warning; SET TIME ZONE ${zone}; ${SESSION_SETTINGS};`;
}

/** Errors of the statement itself (bad input, bad SQL): the primary would answer the same. */
function isStatementError(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && /^(22|42)/.test(code);
}

/**
 * Errors that say the replica cannot serve now (connection refused, reset, timed out, shut down,
 * out of connections, starting up): it is marked down. Others (a query cancelled for a conflict
 * with recovery) only send that statement to the primary.
 */
function isConnectionError(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return typeof code !== 'string' || !/^[0-9A-Z]{5}$/.test(code) || /^(08|53|57|58|XX)/.test(code);
}

/** Connections that have had sessionSettings(). */
const prepared = new WeakSet<pg.PoolClient>();

class Replica {
  readonly name: string;
  /** Connections for the statements: as many as the primary's pool, since most reads land here. */
  readonly pool: pg.Pool;
  /** One connection for the health check, so that busy statements never make a check late. */
  private readonly probe: pg.Pool;
  /** When the primary's WAL position it had replayed at the last check was read (performance.now()); -Infinity: never. */
  caughtUpAt = -Infinity;
  up = false;
  /**
   * How to abandon each statement in flight, removed when it ends. One settle function per
   * statement rather than one shared promise that settles when the replica is lost: every
   * Promise.race on a long-lived pending promise leaves a reaction on it that holds the race's
   * outcome, so the rows of every read stayed in memory for as long as the replica stayed up.
   */
  private readonly inFlight = new Set<(value: typeof LOST) => void>();
  /** What was last logged of it, so a state is logged when it changes, not every tick. */
  private reported = 'starting';

  constructor(
    url: string,
    private readonly acceptNonStandby: () => boolean,
  ) {
    this.name = describe(url);
    const manager = getSequelize().connectionManager as unknown as { getTypeParser(oid: number, format?: string): (value: string) => unknown };
    const common = {
      connectionString: url,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      allowExitOnIdle: true,
      // Sequelize's own parsers (BIGINT, NUMERIC, DATE, enums… by the OIDs it read from the
      // primary, which a physical replica shares): rows parse exactly as on the primary.
      types: { getTypeParser: ((oid: number, format?: string) => manager.getTypeParser(oid, format)) as typeof pg.types.getTypeParser },
    };
    this.pool = new pg.Pool({ ...common, max: config.db.poolMax, query_timeout: QUERY_TIMEOUT_MS, application_name: 'marketplace-read' });
    this.probe = new pg.Pool({ ...common, max: 1, query_timeout: CHECK_TIMEOUT_MS, application_name: 'marketplace-replica-check' });
    // An idle connection that breaks (the replica restarting) is an event, not a crash.
    this.pool.on('error', (error) => this.markDown(error.message));
    this.probe.on('error', (error) => this.markDown(error.message));
  }

  /** Answered the last check, caught up to within MAX_STALENESS_MS, and has a free connection. */
  usable(now: number): boolean {
    if (!this.up || now - this.caughtUpAt > MAX_STALENESS_MS) return false;
    return this.pool.totalCount < config.db.poolMax || this.pool.idleCount > 0;
  }

  /** Runs a statement, or throws (code REPLICA_LOST) as soon as a check finds the replica down meanwhile. */
  async read(text: string, values: unknown[]): Promise<unknown[]> {
    // Found down since it was picked (the caller may have waited meanwhile): not waited on.
    if (!this.up) throw this.lostError();
    const running = this.run(text, values);
    // Abandoned when the replica is lost: its failure later is expected and handled here.
    running.catch(() => undefined);
    let abandon!: (value: typeof LOST) => void;
    const lost = new Promise<typeof LOST>((resolve) => (abandon = resolve));
    this.inFlight.add(abandon);
    try {
      const outcome = await Promise.race([running, lost]);
      if (outcome === LOST) throw this.lostError();
      return outcome;
    } finally {
      this.inFlight.delete(abandon);
    }
  }

  private lostError(): Error {
    return Object.assign(new Error(`replica ${this.name} was found down`), { code: 'REPLICA_LOST' });
  }

  /** Ends the wait of every statement in flight (queryReadRows runs them on the primary); their own outcome is ignored when it comes. */
  private abandonInFlight(): void {
    for (const abandon of this.inFlight) abandon(LOST);
    this.inFlight.clear();
  }

  private async run(text: string, values: unknown[]): Promise<unknown[]> {
    const client = await this.pool.connect();
    try {
      // A new connection gets Sequelize's session settings first, as Sequelize's own do.
      if (!prepared.has(client)) {
        prepared.add(client);
        // A connection lost while checked out fails its statement (handled below) and emits
        // 'error', which the pool listens to only while the connection is idle.
        client.on('error', () => undefined);
        await client.query(sessionSettings());
      }
      // Prepared by name as on the primary: a replica plans each statement once per connection too.
      const rows = await runPrepared(client as unknown as PgConnection, text, values, false);
      client.release();
      return rows;
    } catch (error) {
      // A connection that failed is not given out again.
      client.release(error as Error);
      throw error;
    }
  }

  markDown(reason: string): void {
    this.abandonInFlight();
    this.up = false;
    this.caughtUpAt = -Infinity;
    this.report('down', { reason });
  }

  /** Reads its replayed WAL position; `history` holds the primary's positions at the last checks, newest first. */
  async check(history: Array<{ lsn: bigint; at: number }>): Promise<void> {
    let lsn: string | null;
    try {
      const { rows } = await this.probe.query<{ lsn: string | null }>('SELECT pg_last_wal_replay_lsn()::text AS lsn');
      lsn = rows[0]?.lsn ?? null;
    } catch (error) {
      this.markDown((error as Error).message);
      return;
    }
    if (lsn === null && !this.acceptNonStandby()) {
      // Not in recovery: a primary (or a promoted replica) is no replica of ours.
      this.markDown('not a standby: pg_last_wal_replay_lsn() is NULL');
      return;
    }
    this.up = true;
    // Caught up to the newest moment whose primary position it has replayed.
    const replayed = lsn === null ? undefined : lsnValue(lsn);
    const reached = history.find((entry) => replayed === undefined || replayed >= entry.lsn);
    if (reached && reached.at > this.caughtUpAt) this.caughtUpAt = reached.at;
    if (performance.now() - this.caughtUpAt <= MAX_STALENESS_MS) this.report('usable', {});
    else this.report('lagging', { replayed: lsn });
  }

  private report(state: string, details: Record<string, unknown>): void {
    if (state === this.reported) return;
    const from = this.reported;
    this.reported = state;
    if (state === 'usable') logger.info('read replica usable', { replica: this.name });
    else if (from !== 'starting' || state === 'down') logger.warn(`read replica ${state}: its reads go elsewhere`, { replica: this.name, ...details });
  }

  async close(): Promise<void> {
    this.abandonInFlight();
    await Promise.all([this.pool.end(), this.probe.end()]);
  }
}

class ReplicaRouter {
  private readonly replicas: Replica[];
  private readonly primaryProbe: pg.Pool;
  private readonly timer: NodeJS.Timeout;
  /** The primary's flushed WAL position at the last checks, newest first. */
  private history: Array<{ lsn: bigint; at: number }> = [];
  private ticking = false;
  private next = 0;
  /** Tests only (acceptNonStandbysForTests): plain databases pass for caught-up replicas. */
  acceptNonStandby = false;

  constructor(urls: string[]) {
    this.replicas = urls.map((url) => new Replica(url, () => this.acceptNonStandby));
    const primary = getSequelize().config;
    // Its own connection: a primary pool busy with requests must not make the checks late.
    this.primaryProbe = new pg.Pool({
      host: primary.host,
      port: Number(primary.port),
      user: primary.username,
      password: primary.password ?? undefined,
      database: primary.database,
      max: 1,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      query_timeout: CHECK_TIMEOUT_MS,
      allowExitOnIdle: true,
      application_name: 'marketplace-replica-check',
    });
    this.primaryProbe.on('error', () => undefined);
    this.timer = setInterval(() => void this.tick(), TICK_MS);
    this.timer.unref();
    void this.tick();
    logger.info('read replicas configured', { replicas: this.replicas.map((replica) => replica.name) });
  }

  private async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      const sentAt = performance.now();
      // The flushed position: every commit acknowledged before this moment is at or below it.
      const primary = await this.primaryProbe
        .query<{ lsn: string }>('SELECT pg_current_wal_flush_lsn()::text AS lsn')
        .then(({ rows }) => lsnValue(rows[0].lsn))
        .catch(() => undefined);
      // Without the primary's position the replicas keep their last one, and age out.
      if (primary !== undefined) this.history = [{ lsn: primary, at: sentAt }, ...this.history].slice(0, HISTORY);
      await Promise.all(this.replicas.map((replica) => replica.check(this.history)));
    } finally {
      this.ticking = false;
    }
  }

  /** The next usable replica, round-robin, or undefined. */
  pick(): Replica | undefined {
    const now = performance.now();
    for (let attempt = 0; attempt < this.replicas.length; attempt += 1) {
      const replica = this.replicas[(this.next + attempt) % this.replicas.length];
      if (replica.usable(now)) {
        this.next = (this.next + attempt + 1) % this.replicas.length;
        return replica;
      }
    }
    return undefined;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await Promise.all([...this.replicas.map((replica) => replica.close()), this.primaryProbe.end()]);
  }
}

let router: ReplicaRouter | undefined;
let acceptNonStandbys = false;

/** Starts the replicas' pools and health checks when DATABASE_REPLICA_URLS is set (else does nothing). */
export function startReadReplicas(): void {
  if (router || config.db.replicaUrls.length === 0) return;
  router = new ReplicaRouter(config.db.replicaUrls);
  router.acceptNonStandby = acceptNonStandbys;
}

/** Stops the health checks and closes the replicas' connections. */
export async function closeReadReplicas(): Promise<void> {
  const current = router;
  router = undefined;
  await current?.close();
}

/**
 * Tests only: a database that is not a standby (pg_last_wal_replay_lsn() is NULL) counts as a
 * caught-up replica while it answers, so that routing can be observed on two ordinary databases
 * holding different rows. Production never calls it: there, such a database is never used.
 */
export function acceptNonStandbysForTests(): void {
  if (config.isProduction) throw new Error('acceptNonStandbysForTests is for tests');
  acceptNonStandbys = true;
  if (router) router.acceptNonStandby = true;
}

/**
 * The rows of a read that a replica may serve (the catalog's reads, the statistics): as queryRows
 * without a transaction, on a usable replica when the request allows it, else on the primary.
 * Never for a statement in a transaction or one whose result a write depends on.
 */
export async function queryReadRows<T>(sql: string, bind: Record<string, unknown>): Promise<T[]> {
  const context = routing.getStore();
  if (!context || context.primaryOnly || config.db.replicaUrls.length === 0) return queryRows<T>(sql, bind);
  startReadReplicas();
  const replica = router?.pick();
  if (!replica || (await context.pinned())) return queryRows<T>(sql, bind);
  const { text, values } = toStatement(sql, bind);
  logStatement(getSequelize(), `replica ${replica.name}`, text);
  try {
    return (await replica.read(text, values)) as T[];
  } catch (error) {
    if (isStatementError(error)) throw asDatabaseError(error, text, values);
    if (isConnectionError(error)) replica.markDown((error as Error).message);
    return queryRows<T>(sql, bind);
  }
}
