import type { DeadLetter, EnqueueOptions, JobOutcome, JobPayloads, JobType, RecordedJobOptions } from './types';

/**
 * Runs typed jobs with retries and dead letters. Two implementations with the same rules:
 * BullMQ on Redis (several processes, survives restarts) and inline (in this process, in memory).
 */
export interface JobDriver {
  readonly kind: 'bullmq' | 'inline';
  enqueue<T extends JobType>(type: T, payload: JobPayloads[T], options?: EnqueueOptions): Promise<void>;
  /**
   * Only a driver whose queue is this process's memory has it. Queues a job recorded in the
   * outbox and tells `report` how each run ends, so that the outbox keeps the row until the job
   * has run or failed for good: a process killed meanwhile loses nothing. Returns false, queueing
   * nothing, when a job with this id is already kept (as `enqueue` deduplicates).
   */
  enqueueRecorded?<T extends JobType>(type: T, payload: JobPayloads[T], options: RecordedJobOptions, report: (outcome: JobOutcome) => void): boolean;
  /** A repeating job with an empty payload, first run now; idempotent across processes. */
  schedule(type: JobType, everyMs: number): Promise<void>;
  /** False while the queue cannot take a job (Redis not connected); absent when it always can. */
  accepting?(): boolean;
  /** Starts processing; until then enqueued jobs wait. */
  startWorkers(): Promise<void>;
  /** Job counts per queue and state (for /metrics). */
  depths(): Promise<Record<string, Record<string, number>>>;
  /**
   * For tests: resolves when nothing is waiting, running or waiting for a retry. Jobs delayed
   * on purpose (`delayMs`) and the next run of a schedule do not count.
   */
  whenIdle(): Promise<void>;
  deadLetters(): Promise<DeadLetter[]>;
  /** Stops taking jobs, waits for the running ones, releases timers and connections. */
  close(): Promise<void>;
}
