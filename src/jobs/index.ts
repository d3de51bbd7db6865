import { createJobDriver, type JobDriver } from '../platform/jobs/drivers';
import { closeMail, getMailService } from '../platform/mail/mail.service';
import { FLUSH_VIEWS_EVERY_MS, flushViews } from '../modules/catalog';
import { payoutService, statsService } from '../modules/finance';
import { cancellationService } from '../modules/order';
import { intentService, refundService, webhookService } from '../modules/payment';
import { deliveryService } from '../modules/webhooks';
import { logger } from '../platform/utils/logger';
import { setQueueDepthReader } from '../platform/utils/metrics';
import { OutboxRelay, unsentDueCount } from '../platform/jobs/outbox';
import type { JobHandlers } from '../platform/jobs/types';

export type { EnqueueOptions, JobHandlers, JobPayloads, JobType } from '../platform/jobs/types';
export type { JobDriver } from '../platform/jobs/drivers';
export { recordJob, type RecordJobOptions } from '../platform/jobs/outbox';

/** What each job type does: a few lines that call a service (PeerTube's handlers/email.ts). */
export const handlers: JobHandlers = {
  // Named by its job: a mail run again after a crash is the same message (one .eml file, one Message-ID).
  'email.send': async ({ template, to, data }, job) => {
    await getMailService().send(template, to, data, { id: job.id, recordedAt: job.recordedAt });
  },
  'catalog.flush-views': () => flushViews(),
  'orders.expire-unpaid': async () => {
    await cancellationService.expireDue();
  },
  'payments.apply-event': ({ eventId }) => webhookService.applyEvent(eventId),
  'payments.settle-refund': ({ refundId }) => refundService.settleRefundById(refundId),
  'payments.cancel-intents': ({ orderId }) => intentService.cancelOpenIntents(orderId, { throwOnFailure: true }),
  'payments.sweep-refunds': async () => {
    await refundService.sweepPendingRefunds();
  },
  'stats.compact-order-status': async () => {
    await statsService.compactOrderStatusDays();
  },
  'payouts.run': async () => {
    await payoutService.runPayouts();
  },
  'payouts.transfer': ({ payoutId }) => payoutService.transferPayout(payoutId),
  'webhooks.deliver': ({ deliveryId }) => deliveryService.deliver(deliveryId),
};

/** Seller payouts are made once a day (one payout per seller and UTC day). */
export const PAYOUTS_EVERY_MS = 24 * 60 * 60 * 1000;

/** How often unpaid orders past their deadline are looked for. */
export const EXPIRE_UNPAID_EVERY_MS = 60_000;

/** How often refunds left pending are looked for. */
export const SWEEP_REFUNDS_EVERY_MS = 60_000;

/** How often the order status changes are compacted into order_status_days (the overview reads the rest from the deltas). */
export const COMPACT_ORDER_STATUS_EVERY_MS = 60_000;

/** The repeating jobs (one scheduler each, however many processes call this). */
export async function scheduleRepeatingJobs(): Promise<void> {
  await getJobs().schedule('catalog.flush-views', FLUSH_VIEWS_EVERY_MS);
  await getJobs().schedule('orders.expire-unpaid', EXPIRE_UNPAID_EVERY_MS);
  await getJobs().schedule('payouts.run', PAYOUTS_EVERY_MS);
  await getJobs().schedule('payments.sweep-refunds', SWEEP_REFUNDS_EVERY_MS);
  await getJobs().schedule('stats.compact-order-status', COMPACT_ORDER_STATUS_EVERY_MS);
}

let driver: JobDriver | undefined;
let relay: OutboxRelay | undefined;

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

/**
 * Starts this process's workers and its outbox relay (which feeds the queue from the outbox).
 * Every process that runs workers relays; several relays share the rows safely.
 */
export async function startJobProcessing(): Promise<void> {
  const jobs = getJobs();
  await jobs.startWorkers();
  relay ??= new OutboxRelay(jobs);
  relay.start();
}

/**
 * For tests and tools: resolves once nothing due waits in the outbox and every queued job
 * (and what it recorded in turn) has run.
 */
export async function whenJobsIdle(): Promise<void> {
  for (;;) {
    await relay?.drain();
    await getJobs().whenIdle();
    // What ran in this process is marked in the outbox before "idle" is believed.
    await relay?.flush();
    if (!relay || (relay.holding === 0 && (await unsentDueCount()) === 0)) return;
  }
}

/**
 * Stops the workers (running jobs finish), then the mail transport their handlers send through.
 * Outbox rows of jobs that were still waiting in this process are made due again for the next start.
 */
export async function closeJobs(): Promise<void> {
  const stopping = relay;
  relay = undefined;
  await stopping?.stop();
  const current = driver;
  driver = undefined;
  setQueueDepthReader(undefined);
  await current?.close();
  await stopping?.flush().catch((error: unknown) =>
    logger.warn('could not write the state of in-process jobs to the outbox; they run again when their lease ends', { error: (error as Error).message }),
  );
  await closeMail();
}
