import { Queue, UnrecoverableError, Worker, type Job, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { config } from '../config';
import {
  DEAD_LETTER_QUEUE,
  KEEP_COMPLETED,
  KEEP_FAILED,
  assertValidJobId,
  jobOptions,
  queueConcurrency,
  type DeadLetter,
  type EnqueueOptions,
  type JobContext,
  type JobHandlers,
  type JobPayloads,
  type JobType,
  type QueueName,
} from './types';
import { logger } from '../utils/logger';
import { createRedisConnection } from '../redis';
import type { JobDriver } from './driver';

const IDLE_POLL_MS = 50;
const PRODUCER_COMMAND_TIMEOUT_MS = 5000;

interface DeadLetterRecord extends DeadLetter {
  queue: string;
  jobId?: string;
  failedAt: string;
}

export interface BullmqDriverOptions {
  /** Multiplies every retry delay; tests pass e.g. 0.001 to keep the real rule but not the wait. */
  backoffScale?: number;
}

/**
 * Quits and waits for the socket to end: until then closeRedis() still sees the connection and
 * would force a disconnect, whose 2 s timer holds the process open.
 */
async function release(connection: Redis): Promise<void> {
  if (connection.status === 'end') return;
  const ended = new Promise<void>((resolve) => connection.once('end', () => resolve()));
  await connection.quit().catch(() => connection.disconnect());
  await ended;
}

function jobsOptionsFor(type: JobType, backoffScale: number): JobsOptions {
  const options = jobOptions[type];
  return {
    attempts: options.attempts,
    backoff: { type: 'exponential', delay: options.backoffMs * backoffScale },
    removeOnComplete: { ...KEEP_COMPLETED },
    removeOnFail: { ...KEEP_FAILED },
  };
}

/** The queues that have at least one job type: only those get a worker. */
function usedQueues(): QueueName[] {
  return [...new Set(Object.values(jobOptions).map((options) => options.queue))];
}

/**
 * Jobs on Redis with BullMQ: one queue per kind of work (a slow payout run does not hold up
 * mails), named jobs dispatched to the handler table, retries with exponential backoff, and a
 * dead-letter queue that keeps what failed its last attempt for a person to look at.
 */
export function createBullmqDriver(handlers: JobHandlers, options: BullmqDriverOptions = {}): JobDriver {
  const prefix = config.redisPrefix;
  const backoffScale = options.backoffScale ?? 1;
  const connections: Redis[] = [];
  // The producer (the outbox relay, /metrics) fails at once while Redis is not connected, and after
  // a few seconds when it stopped answering, instead of waiting: jobs wait in the outbox meanwhile.
  const producer = createRedisConnection({ maxRetriesPerRequest: 3, enableOfflineQueue: false, commandTimeout: PRODUCER_COMMAND_TIMEOUT_MS });
  connections.push(producer);

  const queues = new Map<string, Queue>();
  const queueFor = (name: string): Queue => {
    let queue = queues.get(name);
    if (!queue) {
      queue = new Queue(name, { connection: producer, prefix });
      queue.on('error', (error: Error) => logger.error('job queue error', { queue: name, error: error.message }));
      queues.set(name, queue);
    }
    return queue;
  };
  const deadLetterQueue = queueFor(DEAD_LETTER_QUEUE);
  for (const name of usedQueues()) queueFor(name);

  const workers: Worker[] = [];
  const pendingDeadLetters = new Set<Promise<unknown>>();
  let closing: Promise<void> | undefined;

  async function processJob(job: Job): Promise<void> {
    const handler = handlers[job.name as JobType] as ((payload: unknown, context: JobContext) => Promise<void>) | undefined;
    // Retrying cannot make a handler appear: fail for good at once.
    if (!handler) throw new UnrecoverableError(`No handler for job type ${job.name}`);
    await handler(job.data, { id: job.id ?? '', recordedAt: new Date(job.timestamp) });
  }

  function onFailed(queue: QueueName, job: Job | undefined, error: Error): void {
    if (!job) {
      logger.error('job failed (stalled too often)', { queue, error: error.message });
      return;
    }
    // attemptsMade already counts this attempt when 'failed' is emitted.
    const attempts = job.opts.attempts ?? 1;
    const final = job.attemptsMade >= attempts || error.name === 'UnrecoverableError';
    if (!final) {
      logger.warn('job failed, will retry', { queue, type: job.name, jobId: job.id, attempt: job.attemptsMade, error: error.message });
      return;
    }
    const record: DeadLetterRecord = {
      type: job.name,
      payload: job.data,
      error: error.message,
      attempts: job.attemptsMade,
      queue,
      jobId: job.id,
      failedAt: new Date().toISOString(),
    };
    logger.error('job failed for good, dead-lettered', { queue, type: job.name, jobId: job.id, attempts: job.attemptsMade, error: error.message });
    const adding = deadLetterQueue
      // No worker reads this queue: its jobs stay waiting until someone looks at them.
      .add(job.name, record, { removeOnComplete: true, removeOnFail: true })
      .catch((addError: Error) => logger.error('could not dead-letter a job', { queue, type: job.name, jobId: job.id, error: addError.message }))
      .finally(() => pendingDeadLetters.delete(adding));
    pendingDeadLetters.add(adding);
  }

  async function idleOnce(): Promise<boolean> {
    if (pendingDeadLetters.size > 0) return false;
    for (const name of usedQueues()) {
      const queue = queueFor(name);
      // One atomic count first; the delayed list read after it can only show fewer jobs, never hide one.
      const { delayed, ...busy } = await queue.getJobCounts('waiting', 'active', 'prioritized', 'paused', 'waiting-children', 'delayed');
      if (Object.values(busy).some((count) => count > 0)) return false;
      if (delayed > 0) {
        // Jobs delayed on purpose (and the next run of a schedule) have not run yet; a job waiting for a retry has.
        const planned = (await queue.getDelayed()).filter((job) => job.attemptsMade === 0).length;
        if (planned < delayed) return false;
      }
    }
    return pendingDeadLetters.size === 0;
  }

  return {
    kind: 'bullmq',

    accepting(): boolean {
      return !closing && producer.status === 'ready' && producer.stream?.writable === true;
    },

    async enqueue<T extends JobType>(type: T, payload: JobPayloads[T], enqueueOptions: EnqueueOptions = {}): Promise<void> {
      if (closing) throw new Error(`Cannot enqueue ${type}: the job driver is closed`);
      const settings = jobOptions[type];
      if (!settings) throw new Error(`Unknown job type ${type}`);
      const { jobId, delayMs } = enqueueOptions;
      if (jobId !== undefined) assertValidJobId(jobId);
      try {
        // An existing job with the same id makes add() a no-op: that is the deduplication.
        await queueFor(settings.queue).add(type, payload, {
          ...jobsOptionsFor(type, backoffScale),
          jobId,
          delay: delayMs && delayMs > 0 ? delayMs : undefined,
        });
      } catch (error) {
        // Redis stopped answering on an open socket: a new connection, and until it is ready the
        // relay leaves the jobs in the outbox instead of waiting on this one.
        if ((error as Error).message === 'Command timed out' && producer.status === 'ready') producer.disconnect(true);
        throw error;
      }
    },

    async schedule(type: JobType, everyMs: number): Promise<void> {
      // Keyed by type: every process upserts the same scheduler, so there is one whatever the number of processes.
      await queueFor(jobOptions[type].queue).upsertJobScheduler(type, { every: everyMs }, { name: type, data: {}, opts: jobsOptionsFor(type, backoffScale) });
    },

    async startWorkers(): Promise<void> {
      if (closing) throw new Error('Cannot start workers: the job driver is closed');
      if (workers.length > 0) return;
      // Workers block on Redis: their connection must retry forever rather than give up on a command.
      const connection = createRedisConnection({ maxRetriesPerRequest: null });
      connections.push(connection);
      for (const name of usedQueues()) {
        const worker = new Worker(name, processJob, { connection, prefix, concurrency: queueConcurrency[name] });
        worker.on('failed', (job, error) => onFailed(name, job, error));
        worker.on('error', (error: Error) => logger.error('job worker error', { queue: name, error: error.message }));
        workers.push(worker);
      }
      await Promise.all(workers.map((worker) => worker.waitUntilReady()));
    },

    async depths(): Promise<Record<string, Record<string, number>>> {
      const result: Record<string, Record<string, number>> = {};
      await Promise.all(
        [...queues.entries()].map(async ([name, queue]) => {
          result[name] = await queue.getJobCounts();
        }),
      );
      return result;
    },

    async whenIdle(): Promise<void> {
      // Two idle readings in a row: a job moving between states is never seen as "nothing left".
      let idleReadings = 0;
      while (idleReadings < 2) {
        idleReadings = (await idleOnce()) ? idleReadings + 1 : 0;
        await new Promise((resolve) => setTimeout(resolve, IDLE_POLL_MS));
      }
    },

    async deadLetters(): Promise<DeadLetter[]> {
      const jobs = await deadLetterQueue.getJobs(['waiting', 'paused', 'prioritized', 'delayed']);
      return jobs
        .sort((a, b) => a.timestamp - b.timestamp)
        .map((job) => {
          const { type, payload, error, attempts } = job.data as DeadLetterRecord;
          return { type, payload, error, attempts };
        });
    },

    close(): Promise<void> {
      closing ??= (async () => {
        // Workers first: close() lets running jobs finish, and their last failures reach the dead-letter queue.
        await Promise.all(workers.map((worker) => worker.close()));
        await Promise.allSettled([...pendingDeadLetters]);
        await Promise.all([...queues.values()].map((queue) => queue.close()));
        await Promise.all(connections.map(release));
      })();
      return closing;
    },
  };
}
