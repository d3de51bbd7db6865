import type { EmailTemplate } from '../mail/mail.service';

/** Every job type and its payload. Payloads are JSON: they cross Redis. */
export interface JobPayloads {
  'email.send': { template: EmailTemplate; to: string; data: Record<string, unknown> };
  'catalog.flush-views': Record<string, never>;
  'orders.expire-unpaid': Record<string, never>;
  /** A recorded webhook_events row to apply. */
  'payments.apply-event': { eventId: string };
  /** A refund left pending when the provider did not answer: sent again with its own idempotency key. */
  'payments.settle-refund': { refundId: string };
  /** Cancels at the provider the open intents of an order that no longer waits on them (a cancel, a second intent). */
  'payments.cancel-intents': { orderId: string };
  /** Sends refunds left pending for minutes again (repeating). */
  'payments.sweep-refunds': Record<string, never>;
  /** Moves the order status changes recorded since the last run into the per-day counts (repeating). */
  'stats.compact-order-status': Record<string, never>;
  /** Creates the day's seller payouts (repeating). */
  'payouts.run': Record<string, never>;
  /** Pays one payout to the seller's Stripe Connect account. */
  'payouts.transfer': { payoutId: string };
  /** Posts one outgoing webhook delivery (an attempt; a failed one records the next). */
  'webhooks.deliver': { deliveryId: string };
}

export type JobType = keyof JobPayloads;

export const QUEUE_NAMES = ['email', 'payouts', 'inventory', 'maintenance', 'webhooks'] as const;
export type QueueName = (typeof QUEUE_NAMES)[number];

/** Where failed-for-good jobs are kept for a person to look at. */
export const DEAD_LETTER_QUEUE = 'dead-letter';

export interface JobOptions {
  queue: QueueName;
  /** Total tries, the first included. */
  attempts: number;
  /** Delay before the first retry; each next retry waits twice as long (BullMQ's exponential backoff). */
  backoffMs: number;
}

/** Per-type queue, attempts and backoff, like PeerTube's job-queue table: a new type without options does not compile. */
export const jobOptions: { readonly [T in JobType]: JobOptions } = {
  'email.send': { queue: 'email', attempts: 5, backoffMs: 2000 },
  'catalog.flush-views': { queue: 'maintenance', attempts: 1, backoffMs: 1000 },
  'orders.expire-unpaid': { queue: 'inventory', attempts: 1, backoffMs: 1000 },
  'payments.apply-event': { queue: 'payouts', attempts: 8, backoffMs: 2000 },
  'payments.settle-refund': { queue: 'payouts', attempts: 10, backoffMs: 30_000 },
  'payments.cancel-intents': { queue: 'payouts', attempts: 10, backoffMs: 30_000 },
  'payments.sweep-refunds': { queue: 'payouts', attempts: 1, backoffMs: 60_000 },
  'stats.compact-order-status': { queue: 'maintenance', attempts: 1, backoffMs: 1000 },
  'payouts.run': { queue: 'payouts', attempts: 3, backoffMs: 60_000 },
  'payouts.transfer': { queue: 'payouts', attempts: 8, backoffMs: 60_000 },
  // The receiver's answers are retried by the delivery's own schedule; these attempts cover our own failures (the database).
  'webhooks.deliver': { queue: 'webhooks', attempts: 5, backoffMs: 5000 },
};

/** Jobs run at once per queue in one process. */
export const queueConcurrency: { readonly [Q in QueueName]: number } = {
  email: 5,
  payouts: 1,
  inventory: 2,
  maintenance: 1,
  // A receiver may take its 10 s: several deliveries at once keep one slow endpoint from holding the others.
  webhooks: 5,
};

/**
 * How many finished jobs are kept. A job id stays taken while its job is kept, so this is
 * also how long `jobId` deduplicates (a day, or the last 1000 jobs of a queue).
 */
export const KEEP_COMPLETED = { age: 24 * 3600, count: 1000 } as const;
export const KEEP_FAILED = { age: 7 * 24 * 3600, count: 5000 } as const;

/** What a handler knows of its job besides the payload. */
export interface JobContext {
  /**
   * The job id: the outbox row id (or the stable id its caller gave) for a recorded job. A job
   * may run again after a crash, so an effect that must happen once is named by it.
   */
  id: string;
  /** When the job was recorded (or queued): the same on every run of it. */
  recordedAt: Date;
}

export type JobHandlers = { [T in JobType]: (payload: JobPayloads[T], job: JobContext) => Promise<void> };

export interface EnqueueOptions {
  /** A stable id: a job with the same id is not queued again while the first is kept. */
  jobId?: string;
  delayMs?: number;
}

/** How a run of a job recorded in the outbox ended, told to the outbox by a driver that keeps jobs in memory. */
export type JobOutcome =
  | { state: 'completed' }
  /** A run failed; another follows after the backoff. */
  | { state: 'retrying'; attemptsMade: number; error: string }
  /** The last attempt failed: the job is dead-lettered. */
  | { state: 'dead'; attemptsMade: number; error: string }
  /** Handed back unrun (the driver closed): it is to run again at the next start. */
  | { state: 'released'; attemptsMade: number };

export interface RecordedJobOptions {
  jobId: string;
  /** Runs that failed before (a job taken up again after a restart). */
  attemptsMade: number;
  recordedAt: Date;
}

export interface DeadLetter {
  type: string;
  payload: unknown;
  error: string;
  attempts: number;
}

/** Delay before retry number `retry` (1 for the first retry), as BullMQ computes it. */
export function retryDelay(options: JobOptions, retry: number): number {
  return Math.round(2 ** (retry - 1) * options.backoffMs);
}

/** BullMQ refuses ids with ':' and integer ids; both drivers refuse them, so tests catch it without Redis. */
export function assertValidJobId(jobId: string): void {
  if (jobId.length === 0 || jobId.includes(':') || `${Number.parseInt(jobId, 10)}` === jobId) {
    throw new Error(`Invalid job id "${jobId}": it must be non-empty, contain no ':' and not be an integer`);
  }
}
