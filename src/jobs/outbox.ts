import { QueryTypes, type Transaction } from 'sequelize';
import { getSequelize } from '../db';
import { outermost } from '../db/transaction';
import type { JobDriver } from '../integrations/jobs';
import { logger } from '../utils/logger';
import { assertValidJobId, jobOptions, type JobPayloads, type JobType } from './types';

/**
 * The transactional outbox. A side effect is a row written in the transaction of the change it
 * follows: if that transaction rolls back, or its COMMIT fails, the row never existed. After the
 * commit a relay moves due rows to the job queue, with the row id as the job id (so a relay that
 * dies between queueing and marking the row sent queues nothing twice while the job is kept),
 * and marks them sent. A queue that is down (Redis) only delays the rows; they wait here.
 */

export interface RecordJobOptions {
  /** The transaction of the change; without one the row is written (and committed) at once. */
  transaction?: Transaction | null;
  /** A stable job id, for a job that must exist once however often it is recorded. */
  jobId?: string;
  /** Not relayed before this many milliseconds from now. */
  delayMs?: number;
}

interface OutboxRow {
  id: string;
  type: JobType;
  payload: unknown;
  job_id: string | null;
}

const BATCH_SIZE = 100;
const DEFAULT_POLL_MS = 1000;
const MAX_BACKOFF_MS = 30_000;
const KEEP_SENT_HOURS = 24;
const PURGE_EVERY_MS = 10 * 60 * 1000;

/** The relays running in this process, told when a row was recorded here. */
const listeners = new Set<() => void>();

function nudgeRelays(): void {
  for (const nudge of listeners) nudge();
}

/**
 * Records a job to run once the transaction commits (or now, without one). Awaited inside the
 * transaction: a failure to record fails the change, so the two are never apart.
 */
export async function recordJob<T extends JobType>(type: T, payload: JobPayloads[T], options: RecordJobOptions = {}): Promise<void> {
  if (!jobOptions[type]) throw new Error(`Unknown job type ${type}`);
  if (options.jobId !== undefined) assertValidJobId(options.jobId);
  await getSequelize().query(
    `INSERT INTO outbox (type, payload, job_id, available_at)
     VALUES ($type, $payload::jsonb, $jobId, now() + make_interval(secs => $delaySeconds::double precision))`,
    {
      bind: { type, payload: JSON.stringify(payload ?? {}), jobId: options.jobId ?? null, delaySeconds: Math.max(0, options.delayMs ?? 0) / 1000 },
      transaction: options.transaction ?? undefined,
    },
  );
  // The relay would find the row on its next poll; this only saves the wait. It may also run
  // after a COMMIT that failed (Sequelize calls afterCommit hooks regardless): it then finds nothing.
  if (options.transaction) outermost(options.transaction).afterCommit(nudgeRelays);
  else nudgeRelays();
}

export interface OutboxRelayOptions {
  pollMs?: number;
}

/** Moves committed outbox rows to a job driver. Several relays (processes) may run at once: rows are claimed with SKIP LOCKED. */
export class OutboxRelay {
  private timer?: NodeJS.Timeout;
  private running?: Promise<number>;
  private rerun = false;
  private stopped = true;
  private failures = 0;
  private lastPurge = 0;
  private readonly pollMs: number;
  private readonly onRecorded = () => this.nudge();

  constructor(
    private readonly driver: JobDriver,
    options: OutboxRelayOptions = {},
  ) {
    this.pollMs = options.pollMs ?? DEFAULT_POLL_MS;
  }

  /** Starts polling; this relay also answers the nudges of recordJob in this process. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    listeners.add(this.onRecorded);
    this.schedule(0);
  }

  /** Stops polling and waits for a batch under way. */
  async stop(): Promise<void> {
    this.stopped = true;
    listeners.delete(this.onRecorded);
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }

  /** Runs a batch soon (now, unless one is running: then right after it). */
  nudge(): void {
    if (this.stopped) return;
    if (this.running) {
      this.rerun = true;
      return;
    }
    if (this.failures === 0) this.schedule(0);
  }

  /**
   * Relays until nothing due is left; for tests and shutdown. Throws when the queue refuses a
   * job, instead of waiting for it to come back.
   */
  async drain(): Promise<void> {
    for (;;) {
      await this.running?.catch(() => undefined);
      const relayed = await this.runOnce();
      if (relayed === 0) return;
    }
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick(), delayMs);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    try {
      const relayed = await this.runOnce();
      this.failures = 0;
      // A full batch means more may be waiting.
      this.schedule(relayed >= BATCH_SIZE || this.rerun ? 0 : this.pollMs);
    } catch (error) {
      this.failures += 1;
      const delay = Math.min(MAX_BACKOFF_MS, this.pollMs * 2 ** Math.min(this.failures, 10));
      logger.warn('outbox relay could not queue jobs; they wait in the outbox', { error: (error as Error).message, retryInMs: delay });
      this.schedule(delay);
    } finally {
      this.rerun = false;
    }
  }

  /**
   * One batch: claim due rows, queue them, mark those queued as sent, in one transaction.
   * Returns how many were relayed; throws (after committing what was queued) when the queue refused one.
   */
  private runOnce(): Promise<number> {
    const run = this.relayBatch();
    this.running = run;
    void run
      .finally(() => {
        if (this.running === run) this.running = undefined;
      })
      .catch(() => undefined);
    return run;
  }

  private async relayBatch(): Promise<number> {
    await this.purgeNowAndThen();
    const { sent, error } = await getSequelize().transaction(async (transaction) => {
      const rows = await getSequelize().query<OutboxRow>(
        `SELECT id, type, payload, job_id FROM outbox
          WHERE sent_at IS NULL AND available_at <= now()
          ORDER BY available_at, id
          LIMIT ${BATCH_SIZE}
          FOR UPDATE SKIP LOCKED`,
        { type: QueryTypes.SELECT, transaction },
      );
      const outcomes = await Promise.allSettled(rows.map((row) => this.driver.enqueue(row.type, row.payload as never, { jobId: row.job_id ?? row.id })));
      const queued = rows.filter((_row, index) => outcomes[index].status === 'fulfilled').map((row) => row.id);
      const refused = rows.filter((_row, index) => outcomes[index].status === 'rejected').map((row) => row.id);
      const firstError = outcomes.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected')?.reason as unknown;
      if (queued.length > 0) {
        // The payload goes with the job: a mail's may hold a sign-in link, which must not outlive its use here.
        await getSequelize().query(`UPDATE outbox SET sent_at = now(), payload = '{}'::jsonb WHERE id = ANY($ids::uuid[])`, { bind: { ids: queued }, transaction });
      }
      if (refused.length > 0) {
        const reason = firstError instanceof Error ? firstError.message : String(firstError);
        await getSequelize().query(`UPDATE outbox SET attempts = attempts + 1, last_error = $reason WHERE id = ANY($ids::uuid[])`, {
          bind: { ids: refused, reason: reason.slice(0, 1000) },
          transaction,
        });
      }
      return { sent: queued.length, error: refused.length > 0 ? firstError : undefined };
    });
    if (error !== undefined) throw error instanceof Error ? error : new Error(String(error));
    return sent;
  }

  /** Sent rows (their type and times, for a person tracing a mail) are kept a day, then deleted. */
  private async purgeNowAndThen(): Promise<void> {
    if (Date.now() - this.lastPurge < PURGE_EVERY_MS) return;
    this.lastPurge = Date.now();
    await getSequelize().query(`DELETE FROM outbox WHERE sent_at < now() - make_interval(hours => ${KEEP_SENT_HOURS})`);
  }
}

/** How many outbox rows are due and wait to be relayed. */
export async function unsentDueCount(): Promise<number> {
  const [row] = await getSequelize().query<{ count: number }>(`SELECT count(*)::int AS count FROM outbox WHERE sent_at IS NULL AND available_at <= now()`, {
    type: QueryTypes.SELECT,
  });
  return row?.count ?? 0;
}
