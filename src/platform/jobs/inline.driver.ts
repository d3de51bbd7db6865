import crypto from 'node:crypto';
import {
  KEEP_COMPLETED,
  KEEP_FAILED,
  QUEUE_NAMES,
  assertValidJobId,
  jobOptions,
  queueConcurrency,
  retryDelay,
  type DeadLetter,
  type EnqueueOptions,
  type JobHandlers,
  type JobContext,
  type JobOutcome,
  type JobPayloads,
  type JobType,
  type QueueName,
  type RecordedJobOptions,
} from './types';
import { logger } from '../utils/logger';
import type { JobDriver } from './driver';

export interface InlineDriverOptions {
  /** Multiplies every retry delay; tests pass e.g. 0.001 to keep the real rule but not the wait. */
  backoffScale?: number;
}

interface InlineJob {
  id: string;
  type: JobType;
  payload: unknown;
  attemptsMade: number;
  recordedAt: Date;
  /** Set for the runs of a schedule, which never pile up: one at a time per type. */
  scheduled?: boolean;
  /** Set for a job recorded in the outbox: told how each run ends, so the row is kept until then. */
  report?: (outcome: JobOutcome) => void;
}

interface AddOptions {
  scheduled?: boolean;
  attemptsMade?: number;
  recordedAt?: Date;
  report?: (outcome: JobOutcome) => void;
}

const MAX_KEPT_IDS = KEEP_FAILED.count;

/**
 * The job driver without Redis: the same table, retry rule and dead-lettering as BullMQ, in
 * this process. Jobs live in memory; those recorded in the outbox (enqueueRecorded) report each
 * run to it, which keeps their rows until they have run, so a process that stops or dies loses
 * none of them. Others (schedules, direct enqueues) queued when the process stops are lost (logged).
 */
export function createInlineDriver(handlers: JobHandlers, options: InlineDriverOptions = {}): JobDriver {
  const backoffScale = options.backoffScale ?? 1;
  const waiting = new Map<QueueName, InlineJob[]>(QUEUE_NAMES.map((queue) => [queue, []]));
  const active = new Map<QueueName, number>(QUEUE_NAMES.map((queue) => [queue, 0]));
  const completed = new Map<QueueName, number>(QUEUE_NAMES.map((queue) => [queue, 0]));
  const delayed = new Map<NodeJS.Timeout, InlineJob>();
  const retrying = new Map<NodeJS.Timeout, InlineJob>();
  const running = new Set<Promise<void>>();
  const intervals = new Map<JobType, NodeJS.Timeout>();
  const liveSchedules = new Set<JobType>();
  // Job id → time until which it blocks a duplicate (Infinity while the job is not finished), as BullMQ keeps finished jobs.
  const keptIds = new Map<string, number>();
  const dead: DeadLetter[] = [];
  let idleWaiters: Array<() => void> = [];
  let started = false;
  let closed = false;
  let sequence = 0;
  // Ids made up here differ from those of any other driver: a handler may name an effect by its job id.
  const instance = crypto.randomBytes(4).toString('hex');

  const queueOf = (type: JobType): QueueName => jobOptions[type].queue;

  const isIdle = (): boolean =>
    running.size === 0 && retrying.size === 0 && [...waiting.values()].every((jobs) => jobs.length === 0);

  function notifyIfIdle(): void {
    if (!isIdle() && !closed) return;
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  function keepId(id: string, until: number): void {
    keptIds.delete(id);
    keptIds.set(id, until);
    if (keptIds.size <= MAX_KEPT_IDS) return;
    // Map iteration is insertion order: drop the oldest finished ids first.
    for (const [oldId, keptUntil] of keptIds) {
      if (keptIds.size <= MAX_KEPT_IDS) break;
      if (keptUntil !== Infinity) keptIds.delete(oldId);
    }
  }

  function isTaken(id: string): boolean {
    const until = keptIds.get(id);
    if (until === undefined) return false;
    if (until > Date.now()) return true;
    keptIds.delete(id);
    return false;
  }

  function push(job: InlineJob): void {
    waiting.get(queueOf(job.type))!.push(job);
    dispatch();
  }

  function dispatch(): void {
    if (!started || closed) return;
    for (const queue of QUEUE_NAMES) {
      const jobs = waiting.get(queue)!;
      while (jobs.length > 0 && active.get(queue)! < queueConcurrency[queue]) {
        run(queue, jobs.shift()!);
      }
    }
  }

  function run(queue: QueueName, job: InlineJob): void {
    active.set(queue, active.get(queue)! + 1);
    const handler = handlers[job.type] as ((payload: unknown, context: JobContext) => Promise<void>) | undefined;
    const execution = (async () => {
      try {
        if (!handler) throw new Error(`No handler for job type ${job.type}`);
        await handler(job.payload, { id: job.id, recordedAt: job.recordedAt });
        completed.set(queue, completed.get(queue)! + 1);
        finish(job, Date.now() + KEEP_COMPLETED.age * 1000);
        job.report?.({ state: 'completed' });
      } catch (error) {
        failed(job, error);
      }
    })();
    running.add(execution);
    void execution.finally(() => {
      running.delete(execution);
      active.set(queue, active.get(queue)! - 1);
      dispatch();
      notifyIfIdle();
    });
  }

  function finish(job: InlineJob, keepUntil: number): void {
    keepId(job.id, keepUntil);
    if (job.scheduled) liveSchedules.delete(job.type);
  }

  function failed(job: InlineJob, error: unknown): void {
    const options = jobOptions[job.type];
    const message = error instanceof Error ? error.message : String(error);
    job.attemptsMade += 1;
    if (job.attemptsMade < options.attempts && closed) {
      finish(job, Date.now());
      if (job.report) {
        logger.warn('job failed during shutdown, it runs again at the next start', { type: job.type, jobId: job.id, attempt: job.attemptsMade, error: message });
        job.report({ state: 'released', attemptsMade: job.attemptsMade });
      } else {
        // In memory there is nowhere to keep it for a retry after shutdown.
        logger.warn('job failed during shutdown, its retry is dropped', { type: job.type, jobId: job.id, attempt: job.attemptsMade, error: message });
      }
      return;
    }
    if (job.attemptsMade < options.attempts) {
      const delayMs = retryDelay(options, job.attemptsMade) * backoffScale;
      logger.warn('job failed, will retry', { type: job.type, jobId: job.id, attempt: job.attemptsMade, retryInMs: delayMs, error: message });
      job.report?.({ state: 'retrying', attemptsMade: job.attemptsMade, error: message });
      const timer = setTimeout(() => {
        retrying.delete(timer);
        push(job);
      }, delayMs);
      retrying.set(timer, job);
      return;
    }
    dead.push({ type: job.type, payload: job.payload, error: message, attempts: job.attemptsMade });
    finish(job, Date.now() + KEEP_FAILED.age * 1000);
    logger.error('job failed for good, dead-lettered', { type: job.type, jobId: job.id, attempts: job.attemptsMade, error: message });
    job.report?.({ state: 'dead', attemptsMade: job.attemptsMade, error: message });
  }

  /** Queues a job; false when a job with its id is still kept (nothing queued). */
  function add(type: JobType, payload: unknown, enqueueOptions: EnqueueOptions = {}, extra: AddOptions = {}): boolean {
    if (closed) throw new Error(`Cannot enqueue ${type}: the job driver is closed`);
    const options = jobOptions[type];
    if (!options) throw new Error(`Unknown job type ${type}`);
    let id: string;
    if (enqueueOptions.jobId !== undefined) {
      assertValidJobId(enqueueOptions.jobId);
      if (isTaken(enqueueOptions.jobId)) return false;
      id = enqueueOptions.jobId;
    } else {
      sequence += 1;
      id = `inline-${instance}-${sequence}`;
    }
    keepId(id, Infinity);
    const job: InlineJob = {
      id,
      type,
      // Through JSON like a payload going to Redis: a Date or a model instance behaves here as it would with BullMQ.
      payload: JSON.parse(JSON.stringify(payload ?? {})) as unknown,
      // A job taken up again gets at least one more run, even if its attempts were lowered since.
      attemptsMade: Math.min(extra.attemptsMade ?? 0, options.attempts - 1),
      recordedAt: extra.recordedAt ?? new Date(),
      scheduled: extra.scheduled,
      report: extra.report,
    };
    const delayMs = enqueueOptions.delayMs ?? 0;
    if (delayMs <= 0) {
      push(job);
      return true;
    }
    const timer = setTimeout(() => {
      delayed.delete(timer);
      push(job);
    }, delayMs);
    // A job planned for later must not keep a process alive that has nothing else to do.
    timer.unref();
    delayed.set(timer, job);
    return true;
  }

  return {
    kind: 'inline',

    async enqueue<T extends JobType>(type: T, payload: JobPayloads[T], enqueueOptions?: EnqueueOptions): Promise<void> {
      add(type, payload, enqueueOptions);
    },

    enqueueRecorded<T extends JobType>(type: T, payload: JobPayloads[T], recorded: RecordedJobOptions, report: (outcome: JobOutcome) => void): boolean {
      return add(type, payload, { jobId: recorded.jobId }, { attemptsMade: recorded.attemptsMade, recordedAt: recorded.recordedAt, report });
    },

    async schedule(type: JobType, everyMs: number): Promise<void> {
      if (closed) throw new Error(`Cannot schedule ${type}: the job driver is closed`);
      const tick = () => {
        if (liveSchedules.has(type) || closed) return;
        liveSchedules.add(type);
        add(type, {}, {}, { scheduled: true });
      };
      const previous = intervals.get(type);
      if (previous) clearInterval(previous);
      const interval = setInterval(tick, everyMs);
      interval.unref();
      intervals.set(type, interval);
      // BullMQ runs an `every` schedule once at once, then each period.
      tick();
    },

    async startWorkers(): Promise<void> {
      if (closed) throw new Error('Cannot start workers: the job driver is closed');
      started = true;
      dispatch();
    },

    async depths(): Promise<Record<string, Record<string, number>>> {
      const result: Record<string, Record<string, number>> = {};
      const count = (timers: Map<NodeJS.Timeout, InlineJob>, queue: QueueName) =>
        [...timers.values()].filter((job) => queueOf(job.type) === queue).length;
      for (const queue of QUEUE_NAMES) {
        result[queue] = {
          waiting: waiting.get(queue)!.length,
          active: active.get(queue)!,
          delayed: count(delayed, queue) + count(retrying, queue),
          completed: completed.get(queue)!,
          failed: dead.filter((letter) => queueOf(letter.type as JobType) === queue).length,
        };
      }
      result['dead-letter'] = { waiting: dead.length };
      return result;
    },

    whenIdle(): Promise<void> {
      if (isIdle() || closed) return Promise.resolve();
      if (!started) {
        const queued = [...waiting.values()].reduce((sum, jobs) => sum + jobs.length, 0);
        return Promise.reject(new Error(`${queued} job(s) wait for workers that were never started: call startWorkers() first`));
      }
      return new Promise((resolve) => idleWaiters.push(resolve));
    },

    async deadLetters(): Promise<DeadLetter[]> {
      return dead.map((letter) => ({ ...letter }));
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      for (const interval of intervals.values()) clearInterval(interval);
      intervals.clear();
      const dropped = [...delayed.values(), ...retrying.values(), ...[...waiting.values()].flat()];
      for (const timer of [...delayed.keys(), ...retrying.keys()]) clearTimeout(timer);
      delayed.clear();
      retrying.clear();
      for (const jobs of waiting.values()) jobs.length = 0;
      // Jobs recorded in the outbox go back to it, to run at the next start; the others are gone.
      const handedBack = dropped.filter((job) => job.report);
      const lost = dropped.filter((job) => !job.report);
      for (const job of handedBack) job.report!({ state: 'released', attemptsMade: job.attemptsMade });
      await Promise.allSettled([...running]);
      if (handedBack.length > 0) logger.info('in-process jobs left in the outbox for the next start', { count: handedBack.length });
      if (lost.length > 0) {
        logger.warn('in-process jobs dropped at shutdown', { count: lost.length, types: [...new Set(lost.map((job) => job.type))] });
      }
      notifyIfIdle();
    },
  };
}
