import type { Transaction } from 'sequelize';
import { createJobDriver, type JobDriver } from '../integrations/jobs';
import { closeMail, getMailService } from '../services/mail.service';
import { flushViews } from '../services/view-counter.service';
import { logger } from '../utils/logger';
import { setQueueDepthReader } from '../utils/metrics';
import type { EnqueueOptions, JobHandlers, JobPayloads, JobType } from './types';

export type { EnqueueOptions, JobHandlers, JobPayloads, JobType } from './types';
export type { JobDriver } from '../integrations/jobs';

/** What each job type does: a few lines that call a service (PeerTube's handlers/email.ts). */
export const handlers: JobHandlers = {
  'email.send': async ({ template, to, data }) => {
    await getMailService().send(template, to, data);
  },
  'catalog.flush-views': () => flushViews(),
};

let driver: JobDriver | undefined;

/**
 * Creates the process-wide job driver (BullMQ with REDIS_URL, else in-process) and feeds its
 * queue depths to /metrics. Tests may replace handlers; workers start separately (startWorkers).
 */
export function initJobs(options: { handlers?: Partial<JobHandlers> } = {}): JobDriver {
  if (driver) {
    if (options.handlers) throw new Error('Jobs are already initialised: call closeJobs() before initJobs() with other handlers');
    return driver;
  }
  const created = createJobDriver({ ...handlers, ...options.handlers });
  driver = created;
  setQueueDepthReader(() => created.depths());
  return created;
}

/** The process-wide job driver, created with the default handlers on first use. */
export function getJobs(): JobDriver {
  return driver ?? initJobs();
}

export async function enqueueJob<T extends JobType>(type: T, payload: JobPayloads[T], options?: EnqueueOptions): Promise<void> {
  await getJobs().enqueue(type, payload, options);
}

/** Sequelize runs a savepoint's afterCommit when the savepoint is released: only the outermost commit counts. */
function outermost(transaction: Transaction): Transaction {
  let current = transaction as Transaction & { parent?: Transaction };
  while (current.parent) current = current.parent as Transaction & { parent?: Transaction };
  return current;
}

/**
 * Enqueues once the transaction has committed (nothing if it rolls back), so a worker never
 * sees a job about rows it cannot read yet; without a transaction, enqueues now.
 * Sequelize awaits the hook, so when commit() resolves the job is queued. A failure to enqueue
 * after the commit is logged, not thrown: the caller's work is done and cannot be undone.
 */
export async function enqueueAfterCommit<T extends JobType>(
  transaction: Transaction | null | undefined,
  type: T,
  payload: JobPayloads[T],
  options?: EnqueueOptions,
): Promise<void> {
  if (!transaction) {
    await enqueueJob(type, payload, options);
    return;
  }
  outermost(transaction).afterCommit(async () => {
    try {
      await enqueueJob(type, payload, options);
    } catch (error) {
      logger.error('could not enqueue a job after commit', { type, jobId: options?.jobId, error: (error as Error).message });
    }
  });
}

/** Stops the workers (running jobs finish), then the mail transport their handlers send through. */
export async function closeJobs(): Promise<void> {
  const current = driver;
  driver = undefined;
  setQueueDepthReader(undefined);
  await current?.close();
  await closeMail();
}
