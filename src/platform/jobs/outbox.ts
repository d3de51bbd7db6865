import type { Transaction } from 'sequelize';
import { getSequelize } from '../db';
import { queryRows } from '../db/query';
import { outermost } from '../db/transaction';
import type { JobDriver } from './drivers';
import { logger } from '../utils/logger';
import { KEEP_FAILED, assertValidJobId, jobOptions, type JobOutcome, type JobPayloads, type JobType } from './types';

/**
 * The transactional outbox. A side effect is a row written in the transaction of the change it
 * follows: if that transaction rolls back, or its COMMIT fails, the row never existed. After the
 * commit a relay moves due rows to the job queue, with the row id as the job id (so a relay that
 * dies between queueing and marking the row sent queues nothing twice while the job is kept),
 * and marks them sent. A queue that is down (Redis) only delays the rows; they wait here.
 *
 * A queue in this process's memory (no Redis) would lose its jobs with the process, so with it a
 * row is only leased (locked_until) while its job waits or runs here; the lease is renewed, and
 * the row is marked sent once the job has run, or dead (dead_at, kept with its payload for a person
 * to look at) once it has failed every attempt. A process that dies stops renewing: its rows are
 * due again when their leases run out, and the next start runs them, counting the runs that
 * failed before (failed_runs). A job may then run twice (killed between its effect and the mark):
 * handlers name effects that must happen once by the job id (the row id).
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

interface LeasedRow extends OutboxRow {
  failed_runs: number;
  created_at: Date;
}

const BATCH_SIZE = 100;
const DEFAULT_POLL_MS = 1000;
const MAX_BACKOFF_MS = 30_000;
const KEEP_SENT_HOURS = 24;
const PURGE_EVERY_MS = 10 * 60 * 1000;
/**
 * How long a row stays with the process that took it into memory without hearing from it: after
 * a crash its jobs run again this long after they were last renewed, at most.
 */
export const OUTBOX_LEASE_MS = 15_000;
const RENEW_EVERY_MS = OUTBOX_LEASE_MS / 3;
/** Rows held in memory at most; the rest wait in the table, where another process may take them. */
const MAX_HELD = 2000;

/** What is left to write of a row held in memory: the last outcome its job reported. */
type Settlement = { kind: 'sent' } | { kind: 'failed' | 'dead'; failedRuns: number; error: string } | { kind: 'released'; failedRuns: number };

function settlementOf(outcome: JobOutcome): Settlement {
  switch (outcome.state) {
    case 'completed':
      return { kind: 'sent' };
    case 'retrying':
      return { kind: 'failed', failedRuns: outcome.attemptsMade, error: outcome.error };
    case 'dead':
      return { kind: 'dead', failedRuns: outcome.attemptsMade, error: outcome.error };
    case 'released':
      return { kind: 'released', failedRuns: outcome.attemptsMade };
  }
}

/** Due for a relay: not sent, not dead, its time come, and held by no live process. */
const DUE = `sent_at IS NULL AND dead_at IS NULL AND available_at <= now() AND (locked_until IS NULL OR locked_until <= now())`;

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
  await queryRows(
    `INSERT INTO outbox (type, payload, job_id, available_at)
     VALUES ($type, $payload::jsonb, $jobId, now() + make_interval(secs => $delaySeconds::double precision))`,
    { type, payload: JSON.stringify(payload ?? {}), jobId: options.jobId ?? null, delaySeconds: Math.max(0, options.delayMs ?? 0) / 1000 },
    options.transaction ?? undefined,
  );
  // The relay would find the row on its next poll; this only saves the wait. In a transaction of
  // Sequelize's own (not inTransaction's) it may also run after a COMMIT that failed, since
  // Sequelize calls afterCommit hooks regardless: it then finds nothing.
  if (options.transaction) outermost(options.transaction).afterCommit(nudgeRelays);
  else nudgeRelays();
}

/** Records several jobs of one type in one statement (the deliveries of one event). */
export async function recordJobs<T extends JobType>(type: T, payloads: Array<JobPayloads[T]>, options: Omit<RecordJobOptions, 'jobId'> = {}): Promise<void> {
  if (!jobOptions[type]) throw new Error(`Unknown job type ${type}`);
  if (payloads.length === 0) return;
  await queryRows(
    `INSERT INTO outbox (type, payload, available_at)
     SELECT $type, p, now() + make_interval(secs => $delaySeconds::double precision) FROM unnest($payloads::jsonb[]) AS p`,
    { type, payloads: payloads.map((payload) => JSON.stringify(payload ?? {})), delaySeconds: Math.max(0, options.delayMs ?? 0) / 1000 },
    options.transaction ?? undefined,
  );
  if (options.transaction) outermost(options.transaction).afterCommit(nudgeRelays);
  else nudgeRelays();
}

export interface OutboxRelayOptions {
  pollMs?: number;
}

/** Moves committed outbox rows to a job driver. Several relays (processes) may run at once: rows are claimed with SKIP LOCKED. */
export class OutboxRelay {
  private timer?: NodeJS.Timeout;
  private renewTimer?: NodeJS.Timeout;
  /** Rows whose jobs wait or run in this process's memory, by row id. */
  private readonly held = new Set<string>();
  /** Outcomes reported by the driver and not yet written, by row id. */
  private readonly settlements = new Map<string, Settlement>();
  private settling?: Promise<void>;
  /** Batches under way (a poll and a drain may overlap). */
  private readonly batches = new Set<Promise<number>>();
  private rerun = false;
  private stopped = true;
  private failures = 0;
  private queueAway = false;
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
    if (this.driver.enqueueRecorded) {
      this.renewTimer = setInterval(() => void this.renewLeases(), RENEW_EVERY_MS);
      this.renewTimer.unref();
    }
    this.schedule(0);
  }

  /**
   * Stops polling and waits for a batch under way. Leases are still renewed until `flush` is
   * called after the driver has closed (its last jobs finish meanwhile).
   */
  async stop(): Promise<void> {
    this.stopped = true;
    listeners.delete(this.onRecorded);
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.batchesDone();
  }

  /** Rows whose jobs wait or run in this process's memory. */
  get holding(): number {
    return this.held.size;
  }

  /**
   * Writes the outcomes the driver reported: rows marked sent or dead, rows handed back made due
   * again. Called after the driver closed, it leaves nothing held; throws when the database refuses.
   */
  async flush(): Promise<void> {
    await this.settle();
    if (this.stopped && this.held.size === 0) {
      clearInterval(this.renewTimer);
      this.renewTimer = undefined;
    }
  }

  /** Runs a batch soon (now, unless one is running: then right after it). */
  nudge(): void {
    if (this.stopped) return;
    if (this.batches.size > 0) {
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
      await this.batchesDone();
      const relayed = await this.runOnce();
      // Another batch may have taken the last rows meanwhile: done only once it is done too.
      if (relayed === 0 && this.settlements.size === 0 && this.batches.size === 0) return;
    }
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick(), delayMs);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    if (this.driver.accepting && !this.driver.accepting()) {
      // Nothing is claimed while the queue is away: rows wait, and go within a poll of its return.
      if (!this.queueAway) logger.warn('outbox relay waits for the job queue (redis is not connected); jobs wait in the outbox');
      this.queueAway = true;
      this.schedule(this.pollMs);
      return;
    }
    if (this.queueAway) logger.info('job queue reachable again; the outbox relay sends what waited');
    this.queueAway = false;
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
    this.batches.add(run);
    void run.finally(() => this.batches.delete(run)).catch(() => undefined);
    return run;
  }

  private async batchesDone(): Promise<void> {
    await Promise.allSettled([...this.batches]);
  }

  private async relayBatch(): Promise<number> {
    await this.purgeNowAndThen();
    if (this.driver.enqueueRecorded) return this.leaseBatch(this.driver.enqueueRecorded.bind(this.driver));
    if (this.driver.accepting && !this.driver.accepting()) throw new Error('The job queue is not connected');
    const { sent, error } = await getSequelize().transaction(async (transaction) => {
      const rows = await queryRows<OutboxRow>(
        `SELECT id, type, payload, job_id FROM outbox
          WHERE ${DUE}
          ORDER BY available_at, id
          LIMIT ${BATCH_SIZE}
          FOR UPDATE SKIP LOCKED`,
        {},
        transaction,
      );
      const outcomes = await Promise.allSettled(rows.map((row) => this.driver.enqueue(row.type, row.payload as never, { jobId: row.job_id ?? row.id })));
      const queued = rows.filter((_row, index) => outcomes[index].status === 'fulfilled').map((row) => row.id);
      const refused = rows.filter((_row, index) => outcomes[index].status === 'rejected').map((row) => row.id);
      const firstError = outcomes.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected')?.reason as unknown;
      if (queued.length > 0) {
        // The payload goes with the job: a mail's may hold a sign-in link, which must not outlive its use here.
        await queryRows(`UPDATE outbox SET sent_at = now(), payload = '{}'::jsonb WHERE id = ANY($ids::uuid[])`, { ids: queued }, transaction);
      }
      if (refused.length > 0) {
        const reason = firstError instanceof Error ? firstError.message : String(firstError);
        await queryRows(
          `UPDATE outbox SET attempts = attempts + 1, last_error = $reason WHERE id = ANY($ids::uuid[])`,
          { ids: refused, reason: reason.slice(0, 1000) },
          transaction,
        );
      }
      return { sent: queued.length, error: refused.length > 0 ? firstError : undefined };
    });
    if (error !== undefined) throw error instanceof Error ? error : new Error(String(error));
    return sent;
  }

  /**
   * One batch for a driver that keeps jobs in memory: writes the outcomes reported so far, then
   * leases due rows (at most what the held limit leaves room for) and queues their jobs.
   */
  private async leaseBatch(enqueueRecorded: NonNullable<JobDriver['enqueueRecorded']>): Promise<number> {
    await this.settle();
    const room = Math.min(BATCH_SIZE, MAX_HELD - this.held.size);
    if (room <= 0) return 0;
    const rows = await queryRows<LeasedRow>(
      `UPDATE outbox SET locked_until = now() + make_interval(secs => ${OUTBOX_LEASE_MS / 1000})
        WHERE id IN (
          SELECT id FROM outbox
           WHERE ${DUE} AND NOT (id = ANY($held::uuid[]))
           ORDER BY available_at, id
           LIMIT ${room}
           FOR UPDATE SKIP LOCKED)
        RETURNING id, type, payload, job_id, failed_runs, created_at`,
      { held: [...this.held] },
    );
    rows.sort((a, b) => a.created_at.getTime() - b.created_at.getTime());
    let firstError: unknown;
    for (const row of rows) {
      this.held.add(row.id);
      let queued: boolean;
      try {
        const options = { jobId: row.job_id ?? row.id, attemptsMade: row.failed_runs, recordedAt: row.created_at };
        queued = enqueueRecorded(row.type, row.payload as never, options, (outcome) => this.report(row.id, outcome));
      } catch (error) {
        firstError ??= error;
        this.held.delete(row.id);
        const reason = error instanceof Error ? error.message : String(error);
        await queryRows(`UPDATE outbox SET locked_until = NULL, attempts = attempts + 1, last_error = $reason WHERE id = $id`, {
          id: row.id,
          reason: reason.slice(0, 1000),
        });
        continue;
      }
      // A job with this id is kept already: like a job id BullMQ already has, nothing more to run.
      if (!queued) this.report(row.id, { state: 'completed' });
    }
    if (firstError !== undefined) throw firstError instanceof Error ? firstError : new Error(String(firstError));
    return rows.length;
  }

  private report(rowId: string, outcome: JobOutcome): void {
    this.settlements.set(rowId, settlementOf(outcome));
    // Only saves the wait for the next poll; stop() and flush() write the rest.
    this.nudge();
  }

  /** Writes the reported outcomes in one statement; one write at a time. */
  private async settle(): Promise<void> {
    while (this.settling) await this.settling.catch(() => undefined);
    if (this.settlements.size === 0) return;
    const batch = [...this.settlements];
    const run = queryRows(
      `UPDATE outbox o
            SET sent_at = CASE WHEN v.kind = 'sent' THEN now() ELSE o.sent_at END,
                payload = CASE WHEN v.kind = 'sent' THEN '{}'::jsonb ELSE o.payload END,
                dead_at = CASE WHEN v.kind = 'dead' THEN now() ELSE o.dead_at END,
                failed_runs = greatest(o.failed_runs, coalesce(v.failed_runs, 0)),
                last_error = coalesce(v.error, o.last_error),
                locked_until = CASE WHEN v.kind = 'failed' THEN o.locked_until ELSE NULL END
           FROM unnest($ids::uuid[], $kinds::text[], $runs::int[], $errors::text[]) AS v(id, kind, failed_runs, error)
          WHERE o.id = v.id`,
      {
        ids: batch.map(([id]) => id),
        kinds: batch.map(([, settlement]) => settlement.kind),
        runs: batch.map(([, settlement]) => ('failedRuns' in settlement ? settlement.failedRuns : null)),
        errors: batch.map(([, settlement]) => ('error' in settlement ? settlement.error.slice(0, 1000) : null)),
      },
    ).then(() => {
      for (const [id, settlement] of batch) {
        // A later outcome reported meanwhile stays to be written.
        if (this.settlements.get(id) === settlement) this.settlements.delete(id);
        if (settlement.kind !== 'failed') this.held.delete(id);
      }
    });
    this.settling = run;
    try {
      await run;
    } finally {
      this.settling = undefined;
    }
  }

  /** Keeps the rows whose jobs are in this process's memory from being taken by another process. */
  private async renewLeases(): Promise<void> {
    if (this.held.size === 0) return;
    try {
      await queryRows(
        `UPDATE outbox SET locked_until = now() + make_interval(secs => ${OUTBOX_LEASE_MS / 1000})
          WHERE id = ANY($ids::uuid[]) AND sent_at IS NULL AND dead_at IS NULL`,
        { ids: [...this.held] },
      );
    } catch (error) {
      logger.warn('could not renew the leases of outbox rows held in memory', { error: (error as Error).message, rows: this.held.size });
    }
  }

  /**
   * Sent rows (their type and times, for a person tracing a mail) are kept a day, then deleted;
   * dead ones (with their payload) as long as BullMQ keeps failed jobs.
   */
  private async purgeNowAndThen(): Promise<void> {
    if (Date.now() - this.lastPurge < PURGE_EVERY_MS) return;
    this.lastPurge = Date.now();
    await queryRows(`DELETE FROM outbox WHERE sent_at < now() - make_interval(hours => ${KEEP_SENT_HOURS})`, {});
    await queryRows(`DELETE FROM outbox WHERE dead_at < now() - make_interval(secs => ${KEEP_FAILED.age})`, {});
  }
}

/** How many outbox rows are due and wait to be relayed (held by no process). */
export async function unsentDueCount(): Promise<number> {
  const [row] = await queryRows<{ count: number }>(`SELECT count(*)::int AS count FROM outbox WHERE ${DUE}`, {});
  return row?.count ?? 0;
}
