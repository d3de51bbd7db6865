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
  type JobPayloads,
  type JobType,
  type QueueName,
} from '../../jobs/types';
import { logger } from '../../utils/logger';
import type { JobDriver } from './index';

export interface InlineDriverOptions {
  /** Multiplies every retry delay; tests pass e.g. 0.001 to keep the real rule but not the wait. */
  backoffScale?: number;
}

interface InlineJob {
  id: string;
  type: JobType;
  payload: unknown;
  attemptsMade: number;
  /** Set for the runs of a schedule, which never pile up: one at a time per type. */
  scheduled?: boolean;
}

const MAX_KEPT_IDS = KEEP_FAILED.count;

/**
 * The job driver without Redis: the same table, retry rule and dead-lettering as BullMQ, in
 * this process. Jobs live in memory: what is queued when the process stops is lost (logged).
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
    const handler = handlers[job.type] as ((payload: unknown) => Promise<void>) | undefined;
    const execution = (async () => {
      try {
        if (!handler) throw new Error(`No handler for job type ${job.type}`);
        await handler(job.payload);
        completed.set(queue, completed.get(queue)! + 1);
        finish(job, Date.now() + KEEP_COMPLETED.age * 1000);
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
      // In memory there is nowhere to keep it for a retry after shutdown.
      logger.warn('job failed during shutdown, its retry is dropped', { type: job.type, jobId: job.id, attempt: job.attemptsMade, error: message });
      finish(job, Date.now());
      return;
    }
    if (job.attemptsMade < options.attempts) {
      const delayMs = retryDelay(options, job.attemptsMade) * backoffScale;
      logger.warn('job failed, will retry', { type: job.type, jobId: job.id, attempt: job.attemptsMade, retryInMs: delayMs, error: message });
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
  }

  function add(type: JobType, payload: unknown, enqueueOptions: EnqueueOptions = {}, scheduled = false): void {
    if (closed) throw new Error(`Cannot enqueue ${type}: the job driver is closed`);
    if (!jobOptions[type]) throw new Error(`Unknown job type ${type}`);
    let id: string;
    if (enqueueOptions.jobId !== undefined) {
      assertValidJobId(enqueueOptions.jobId);
      if (isTaken(enqueueOptions.jobId)) return;
      id = enqueueOptions.jobId;
    } else {
      sequence += 1;
      id = `inline-${sequence}`;
    }
    keepId(id, Infinity);
    // Through JSON like a payload going to Redis: a Date or a model instance behaves here as it would with BullMQ.
    const job: InlineJob = { id, type, payload: JSON.parse(JSON.stringify(payload ?? {})) as unknown, attemptsMade: 0, scheduled };
    const delayMs = enqueueOptions.delayMs ?? 0;
    if (delayMs <= 0) {
      push(job);
      return;
    }
    const timer = setTimeout(() => {
      delayed.delete(timer);
      push(job);
    }, delayMs);
    // A job planned for later must not keep a process alive that has nothing else to do.
    timer.unref();
    delayed.set(timer, job);
  }

  return {
    kind: 'inline',

    async enqueue<T extends JobType>(type: T, payload: JobPayloads[T], enqueueOptions?: EnqueueOptions): Promise<void> {
      add(type, payload, enqueueOptions);
    },

    async schedule(type: JobType, everyMs: number): Promise<void> {
      if (closed) throw new Error(`Cannot schedule ${type}: the job driver is closed`);
      const tick = () => {
        if (liveSchedules.has(type) || closed) return;
        liveSchedules.add(type);
        add(type, {}, {}, true);
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
      await Promise.allSettled([...running]);
      if (dropped.length > 0) {
        logger.warn('in-process jobs dropped at shutdown', { count: dropped.length, types: [...new Set(dropped.map((job) => job.type))] });
      }
      notifyIfIdle();
    },
  };
}
