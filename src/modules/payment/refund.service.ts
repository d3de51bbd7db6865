import type { Transaction } from 'sequelize';
import { queryRows } from '../../platform/db/query';
import { inTransaction } from '../../platform/db/transaction';
import { getPaymentProvider, providerBackstopMs, PaymentProviderError, type ProviderRefund } from '../../platform/payments';
import { recordJob } from '../../platform/jobs/outbox';
import { isUuid, type OrderStatus, type PaymentStatus, type RefundStatus } from '../../models';
import { ConflictError, NotFoundError, UpstreamError, ValidationError } from '../../platform/utils/errors';
import { logger } from '../../platform/utils/logger';
import { fromMinor, toMinor } from '../../platform/utils/money';
import { ledgerService, planRefund, type RefundablePart, type RefundShare } from '../finance';
import type { Caller } from '../accounts';
import { FULFILLMENT_STATUS, moveOrder, returnedUnits, returnRefunded, SYSTEM_ACTOR, type Actor } from '../order';
import { moveStatus } from '../../platform/db/status-machine';
import { PAYMENT_STATUS, REFUND_STATUS } from './payment-states';
import { restockOrder } from '../catalog';
import { type OrderRow, ORDER_COLUMNS, ORDER_COLUMNS_OF_T, providerFailure, lockOrder } from './payment-rows';

/**
 * Money back: refunds reserved in a transaction (never more than was paid, also for requests at
 * once), sent to the provider after it commits, and settled from its answer; refunds made in
 * Stripe's dashboard, reconciled. Every provider call that a committed change requires is
 * recorded in the outbox by the transaction that decides it, so it happens even if this process
 * dies right after the commit; the request tries it once at once, so its answer shows the outcome.
 */

export interface RefundInput {
  /** Default: everything paid and not refunded yet. */
  amount?: string;
  reason?: string | null;
  /** Put the stock of the lines back (only with a refund that settles the whole order). */
  restock?: boolean;
}

interface RefundRow {
  id: string;
  order_id: string;
  amount: string;
  status: string;
  restock: boolean;
  reason: string | null;
  created_by: string | null;
  payment_transaction_id: string | null;
  item_ids: string[] | null;
  return_id: string | null;
}

interface ReserveRefundOptions {
  reason: string | null;
  restock?: boolean;
  /** The lines the refund is for; default: spread over the order's lines. */
  itemIds?: string[];
  /** The return whose units it pays back. */
  returnId?: string;
  /** The job that sends it to the provider waits this long (the request that reserved it tries first). */
  jobDelayMs: number;
}

/** The statuses from which a full refund moves an order to `refunded` (a cancelled order stays cancelled). */
const REFUNDABLE_STATUSES: OrderStatus[] = ['confirmed', 'processing', 'shipped', 'delivered'];
/** A refund still pending after this long is sent again by the sweep (its jobs may have run out of attempts). */
const SWEEP_AFTER_MINUTES = 5;
const SWEEP_BATCH = 100;

/** The order's lines and sellers' parcels as a refund splits over them (minor units), lines first, each in a stable order. */
async function refundableParts(orderId: string, transaction: Transaction): Promise<RefundablePart[]> {
  const rows = await queryRows<{ id: string; kind: 'line' | 'shipping'; seller_id: string; paid: string; paid_refunded: string; credited: string; credit_refunded: string }>(
    `SELECT id, kind, seller_id, paid, paid_refunded, credited, credit_refunded FROM (
       SELECT id, 'line' AS kind, seller_id, paid_amount AS paid, paid_refunded, seller_amount AS credited, refunded_amount AS credit_refunded, created_at
         FROM order_items WHERE order_id = $orderId
       UNION ALL
       SELECT id, 'shipping', seller_id, paid_amount, paid_refunded, seller_amount, CASE WHEN refunded_at IS NULL THEN 0 ELSE seller_amount END, created_at
         FROM order_shipping WHERE order_id = $orderId
     ) parts ORDER BY kind, created_at, id`,
    { orderId },
    transaction,
  );
  return rows.map((row) => ({
    id: row.id,
    kind: row.kind,
    sellerId: row.seller_id,
    paid: toMinor(row.paid),
    paidRefunded: toMinor(row.paid_refunded),
    credited: toMinor(row.credited),
    creditRefunded: toMinor(row.credit_refunded),
  }));
}

/** Raises the refunded figures of the lines and parcels by their shares of a refund; a parcel whose credit went back is marked refunded. */
async function applyRefundShares(shares: Map<string, RefundShare>, parts: RefundablePart[], transaction: Transaction): Promise<void> {
  const ofKind = (kind: RefundablePart['kind']) => parts.filter((part) => part.kind === kind && shares.has(part.id));
  const lines = ofKind('line');
  if (lines.length > 0) {
    await queryRows(
      `UPDATE order_items oi SET paid_refunded = oi.paid_refunded + v.paid, refunded_amount = oi.refunded_amount + v.credited, updated_at = now()
         FROM unnest($ids::uuid[], $paid::numeric[], $credited::numeric[]) AS v(id, paid, credited) WHERE oi.id = v.id`,
      {
        ids: lines.map((part) => part.id),
        paid: lines.map((part) => fromMinor(shares.get(part.id)!.paid)),
        credited: lines.map((part) => fromMinor(shares.get(part.id)!.credited)),
      },
      transaction,
    );
  }
  const parcels = ofKind('shipping');
  if (parcels.length > 0) {
    await queryRows(
      `UPDATE order_shipping s SET paid_refunded = s.paid_refunded + v.paid, refunded_at = CASE WHEN v.credited > 0 THEN now() ELSE s.refunded_at END
         FROM unnest($ids::uuid[], $paid::numeric[], $credited::numeric[]) AS v(id, paid, credited) WHERE s.id = v.id`,
      {
        ids: parcels.map((part) => part.id),
        paid: parcels.map((part) => fromMinor(shares.get(part.id)!.paid)),
        credited: parcels.map((part) => fromMinor(shares.get(part.id)!.credited)),
      },
      transaction,
    );
  }
}

export class RefundService {
  /**
   * Brings our refunds in line with the provider's for one intent: refunds made through the app
   * are completed, refunds made in Stripe's dashboard are recorded. Each provider refund counts once.
   */
  async reconcileRefunds(intentId: string): Promise<void> {
    const refunds = (await getPaymentProvider().listRefunds(intentId)).filter((refund) => refund.status === 'succeeded');
    if (refunds.length === 0) return;
    await inTransaction(async (transaction) => {
      const [payment] = await queryRows<{ id: string; order_id: string; surplus: boolean }>(
        `SELECT id, order_id, surplus FROM transactions WHERE provider = 'stripe' AND type = 'payment' AND provider_reference = $intentId`,
        { intentId },
        transaction,
      );
      if (!payment) {
        logger.warn('refunds for no known payment', { intentId });
        return;
      }
      const order = await lockOrder(payment.order_id, transaction);
      if (!order) return;
      for (const refund of refunds) {
        const [seen] = await queryRows<{ id: string }>('SELECT id FROM refunds WHERE provider_refund_id = $id', { id: refund.id }, transaction);
        if (seen) continue;
        let refundId = refund.refundId && isUuid(refund.refundId) ? refund.refundId : null;
        const [ours] = refundId ? await queryRows<{ id: string }>('SELECT id FROM refunds WHERE id = $id AND order_id = $orderId', { id: refundId, orderId: order.id }, transaction) : [];
        if (!ours) {
          // Made in Stripe's dashboard. A surplus payment's refund never touches the order's amounts;
          // one Stripe refused earlier does not count (the dashboard refund is then recorded beside it).
          const [surplusRefund] = payment.surplus
            ? await queryRows<{ id: string; status: string }>(
                `SELECT id, status FROM refunds WHERE payment_transaction_id = $paymentId AND status <> 'failed'`,
                { paymentId: payment.id },
                transaction,
              )
            : [];
          if (surplusRefund) {
            if (surplusRefund.status !== 'pending') continue;
            refundId = surplusRefund.id;
          } else {
            const [created] = await queryRows<{ id: string }>(
              `INSERT INTO refunds (order_id, amount, reason, status, payment_transaction_id)
               VALUES ($orderId, $amount, 'Refunded in Stripe', 'pending', $paymentId) RETURNING id`,
              { orderId: order.id, amount: fromMinor(refund.amount), paymentId: payment.surplus ? payment.id : null },
              transaction,
            );
            refundId = created.id;
          }
        }
        await this.completeRefund(refundId!, refund, SYSTEM_ACTOR, transaction);
      }
    }, { name: 'reconcile refunds' });
  }

  /**
   * Refunds part or all of what an order's customer paid (an admin), through the provider. The
   * amount is reserved under the order's row lock, with the job that sends it, so refunds at once
   * never add up to more than was paid (409 REFUND_EXCEEDS_PAYMENT) and each answer 200 is a
   * refund made. A provider refusal leaves a failed refund row and nothing else; a provider that
   * does not answer leaves the refund pending (502), sent again by its job with the same key.
   */
  async refund(orderId: string, admin: Caller, input: RefundInput): Promise<void> {
    if (!isUuid(orderId)) throw new NotFoundError('Order');
    const actor: Actor = { id: admin.id, role: admin.role };
    const requested = input.amount === undefined ? undefined : toMinor(input.amount);
    const refundId = await inTransaction(async (transaction) => {
      const order = await lockOrder(orderId, transaction);
      if (!order) throw new NotFoundError('Order');
      if (order.payment_status === 'unpaid') throw new ConflictError('ORDER_NOT_REFUNDABLE', 'Nothing was paid for this order');
      const refundable = await this.refundable(order, transaction);
      const retried = await this.takeOverFailedRefund(order.id, requested, refundable, transaction);
      if (retried) return retried;
      const amount = requested ?? refundable;
      if (amount <= 0 || amount > refundable) {
        throw new ConflictError('REFUND_EXCEEDS_PAYMENT', `At most ${fromMinor(Math.max(refundable, 0))} can still be refunded`);
      }
      if (input.restock && amount !== refundable) {
        throw new ValidationError([{ field: 'restock', message: 'restock comes with a refund of everything left to refund' }]);
      }
      return this.reserveRefund(
        order,
        amount,
        actor,
        { reason: input.reason ?? null, restock: Boolean(input.restock) && order.status !== 'cancelled', jobDelayMs: providerBackstopMs() },
        transaction,
      );
    }, { name: 'reserve refund' });
    await this.settleRefund(refundId, actor, { throwOnFailure: true });
    logger.info('refund made', { orderId, refundId, by: admin.id, amount: input.amount ?? 'all' });
  }

  /**
   * An admin retrying a refund that answered 502: the refund of that amount (or, asked for
   * everything with nothing else left, of any amount) left pending after a provider call without
   * an answer is sent again with its key, instead of a second one being made. A refund whose
   * request is still under way has no failure yet and is never taken over; of two retries at
   * once, the first takes it (the order's row lock is held) and the other is judged on its own.
   */
  private async takeOverFailedRefund(orderId: string, requested: number | undefined, refundable: number, transaction: Transaction): Promise<string | null> {
    if (requested === undefined && refundable > 0) return null;
    const [taken] = await queryRows<{ id: string }>(
      `UPDATE refunds SET provider_failures = 0, updated_at = now()
        WHERE id = (SELECT id FROM refunds
                     WHERE order_id = $orderId AND status = 'pending' AND payment_transaction_id IS NULL AND provider_failures > 0
                       AND ($requested::numeric IS NULL OR amount = $requested::numeric)
                     ORDER BY created_at LIMIT 1)
       RETURNING id`,
      { orderId, requested: requested === undefined ? null : fromMinor(requested) },
      transaction,
    );
    return taken?.id ?? null;
  }

  /** Paid minus refunded minus refunds still pending, in minor units. */
  private async refundable(order: OrderRow, transaction: Transaction): Promise<number> {
    const [{ pending }] = await queryRows<{ pending: string }>(
      `SELECT coalesce(sum(amount), 0)::text AS pending FROM refunds WHERE order_id = $orderId AND status = 'pending' AND payment_transaction_id IS NULL`,
      { orderId: order.id },
      transaction,
    );
    return toMinor(order.amount_paid) - toMinor(order.amount_refunded) - toMinor(pending);
  }

  /**
   * Reserves a refund of the order's payment (the caller holds the order's row lock): a manual
   * payment's is completed at once; a card payment's is recorded with the job that sends it to the
   * provider, so it is made even if this process dies before it calls the provider itself.
   */
  async reserveRefund(order: OrderRow, amount: number, actor: Actor, options: ReserveRefundOptions, transaction: Transaction): Promise<string> {
    const [row] = await queryRows<{ id: string }>(
      `INSERT INTO refunds (order_id, amount, reason, status, restock, created_by, item_ids, return_id)
       VALUES ($orderId, $amount, $reason, 'pending', $restock, $actorId, $itemIds::uuid[], $returnId) RETURNING id`,
      {
        orderId: order.id,
        amount: fromMinor(amount),
        reason: options.reason,
        restock: Boolean(options.restock),
        actorId: actor.id,
        itemIds: options.itemIds ?? null,
        returnId: options.returnId ?? null,
      },
      transaction,
    );
    if (order.payment_provider === 'stripe') {
      await recordJob('payments.settle-refund', { refundId: row.id }, { transaction, delayMs: options.jobDelayMs });
    } else {
      await this.completeRefund(row.id, null, actor, transaction);
    }
    return row.id;
  }

  /**
   * Refunds whatever an order has paid and not refunded, within the caller's transaction (a
   * cancel): a manual payment is settled at once; a card payment is reserved with its job, and the
   * caller sends it after the commit (`settleRefund`). Returns the refund's id, if one was made.
   */
  async refundEverythingIn(orderId: string, actor: Actor, reason: string, transaction: Transaction): Promise<string | null> {
    const order = await lockOrder(orderId, transaction);
    if (!order || order.payment_status === 'unpaid') return null;
    const amount = await this.refundable(order, transaction);
    if (amount <= 0) return null;
    return this.reserveRefund(order, amount, actor, { reason, jobDelayMs: providerBackstopMs() }, transaction);
  }

  /**
   * Refunds the share of what was paid that these lines stand for (their remaining amounts, with
   * their part of tax and shipping), within the caller's transaction: an admin cancelling the lines
   * not shipped yet. Returns the refund's id, if one was made.
   */
  async refundLinesIn(orderId: string, itemIds: string[], actor: Actor, reason: string, transaction: Transaction): Promise<string | null> {
    const order = await lockOrder(orderId, transaction);
    if (!order || order.payment_status === 'unpaid' || itemIds.length === 0) return null;
    // What was paid for these lines (their discount and tax shares), and their sellers' shipping when no other line of theirs is left.
    const plan = planRefund(await refundableParts(orderId, transaction), { itemIds });
    const amount = Math.min(plan.amount, await this.refundable(order, transaction));
    if (amount <= 0) return null;
    return this.reserveRefund(order, amount, actor, { reason, itemIds, jobDelayMs: providerBackstopMs() }, transaction);
  }

  /**
   * Reserves, in the transaction that received a return (under the order's row lock), the refund
   * of what was paid for its units: each unit's share of its line (the line's price less its
   * discount share plus its tax share), and a seller's shipping when none of their lines is left.
   * Returns the refund's id, or null when nothing was paid for them (the return is refunded then).
   */
  async refundReturnIn(returnId: string, actor: Actor, transaction: Transaction): Promise<string | null> {
    const [found] = await queryRows<{ order_id: string }>('SELECT order_id FROM returns WHERE id = $returnId', { returnId }, transaction);
    const order = found ? await lockOrder(found.order_id, transaction) : undefined;
    if (!order || order.payment_status === 'unpaid') return null;
    const units = await returnedUnits(returnId, transaction);
    const plan = planRefund(await refundableParts(order.id, transaction), { units });
    const amount = Math.max(Math.min(plan.amount, await this.refundable(order, transaction)), 0);
    await queryRows('UPDATE returns SET refund_amount = $amount, updated_at = now() WHERE id = $returnId', { returnId, amount: fromMinor(amount) }, transaction);
    if (amount === 0) {
      await returnRefunded(returnId, actor, transaction);
      return null;
    }
    const refundId = await this.reserveRefund(
      order,
      amount,
      actor,
      { reason: 'Return received', itemIds: units.map((unit) => unit.id), returnId, jobDelayMs: providerBackstopMs() },
      transaction,
    );
    await queryRows('UPDATE returns SET refund_id = $refundId WHERE id = $returnId', { returnId, refundId }, transaction);
    return refundId;
  }

  /** The job behind a pending refund: sends it with its own idempotency key; throws to be retried when the provider did not answer. */
  async settleRefundById(refundId: string): Promise<void> {
    try {
      await this.settleRefund(refundId, SYSTEM_ACTOR, { throwOnFailure: true });
    } catch (error) {
      // A refusal is an outcome (the refund is failed, left to an admin): the job is done. Only a call
      // the provider did not answer runs again.
      const [row] = await queryRows<{ status: string }>('SELECT status FROM refunds WHERE id = $refundId', { refundId });
      if (row?.status === 'failed') return;
      throw error;
    }
  }

  /**
   * Sends refunds pending for longer than a few minutes again (their jobs may have run out of
   * attempts while the provider was down). Repeating job; returns how many completed.
   */
  async sweepPendingRefunds(): Promise<number> {
    const due = await queryRows<{ id: string }>(
      `SELECT id FROM refunds WHERE status = 'pending' AND updated_at < now() - make_interval(mins => ${SWEEP_AFTER_MINUTES}) ORDER BY updated_at LIMIT ${SWEEP_BATCH}`,
      {},
    );
    let settled = 0;
    for (const { id } of due) if (await this.settleRefund(id, SYSTEM_ACTOR, { throwOnFailure: false })) settled += 1;
    if (due.length > 0) logger.info('pending refunds swept', { due: due.length, settled });
    return settled;
  }

  /**
   * Calls the provider for a reserved refund (with the key `refund-<id>`, so however many jobs and
   * requests send it, it is made once) and writes the outcome. Returns true when it completed.
   */
  async settleRefund(refundId: string, actor: Actor, options: { throwOnFailure: boolean }): Promise<boolean> {
    const [row] = await queryRows<{ id: string; order_id: string; amount: string; status: string; provider: string | null; intent_id: string | null }>(
      `SELECT r.id, r.order_id, r.amount, r.status, coalesce(p.provider::text, o.payment_provider::text) AS provider,
              coalesce(p.provider_reference, o.payment_intent_id) AS intent_id
         FROM refunds r JOIN orders o ON o.id = r.order_id LEFT JOIN transactions p ON p.id = r.payment_transaction_id
        WHERE r.id = $refundId`,
      { refundId },
    );
    if (!row || row.status !== 'pending' || row.provider !== 'stripe' || !row.intent_id) return false;
    const amount = toMinor(row.amount);
    let outcome: ProviderRefund;
    try {
      outcome = await getPaymentProvider().refund({ intentId: row.intent_id, amount, refundId, key: `refund-${refundId}` });
    } catch (error) {
      const rejected = error instanceof PaymentProviderError && error.rejected;
      if (rejected) {
        await moveStatus(REFUND_STATUS, 'failed', {
          where: 't.id = $refundId',
          bind: { refundId, why: (error as Error).message.slice(0, 500) },
          set: { reason: "concat_ws(' | ', t.reason, $why::text)" },
        });
        logger.error('refund refused by the provider; an admin must settle it', { event: 'refund_refused', refundId, orderId: row.order_id });
      } else {
        // No answer: it may have been made. It stays reserved; its job, the sweep or an admin's retry sends it again with the same key.
        await queryRows(`UPDATE refunds SET provider_failures = provider_failures + 1, updated_at = now() WHERE id = $refundId AND status = 'pending'`, { refundId });
      }
      const failure = providerFailure(error, { refundId, orderId: row.order_id, call: 'refund' });
      if (options.throwOnFailure) throw failure;
      return false;
    }
    if (outcome.status === 'failed' || outcome.status === 'canceled') {
      await moveStatus(REFUND_STATUS, 'failed', { where: 't.id = $refundId', bind: { refundId, providerId: outcome.id }, set: { provider_refund_id: '$providerId' } });
      logger.error('refund failed at the provider; an admin must settle it', { event: 'refund_refused', refundId, orderId: row.order_id, status: outcome.status });
      if (options.throwOnFailure) throw new UpstreamError('PAYMENT_PROVIDER_ERROR', 'The payment provider refused the refund');
      return false;
    }
    await inTransaction(async (transaction) => {
      await lockOrder(row.order_id, transaction);
      await this.completeRefund(refundId, outcome, actor, transaction);
    }, { name: 'complete refund' });
    return true;
  }

  /**
   * Writes a refund that happened (once: the pending row flips to succeeded) and its refund
   * transaction. A refund of the order's payment also raises the order's refunded amount and
   * payment status, spreads the amount over the lines (or gives it to the lines it is for), and
   * when nothing paid is left moves the order to refunded (with its stock back if asked). A
   * surplus payment's refund touches none of that. The caller holds the order's row lock.
   */
  private async completeRefund(refundId: string, outcome: ProviderRefund | null, actor: Actor, transaction: Transaction): Promise<void> {
    const [refund] = await moveStatus<RefundStatus, RefundRow>(REFUND_STATUS, 'succeeded', {
      where: 't.id = $refundId',
      bind: { refundId, providerId: outcome?.id ?? null },
      set: { provider_refund_id: '$providerId' },
      returning: 't.id, t.order_id, t.amount, t.status, t.restock, t.reason, t.created_by, t.payment_transaction_id, t.item_ids, t.return_id',
      transaction,
    });
    if (!refund) return;
    if (refund.payment_transaction_id) {
      const [payment] = await queryRows<{ id: string }>(
        `INSERT INTO transactions (order_id, type, provider, provider_reference, amount, currency, status, recorded_by, metadata, surplus)
         SELECT order_id, 'refund', provider, $reference, $amount, currency, 'succeeded', $actorId, $metadata::jsonb, true FROM transactions WHERE id = $paymentId
         RETURNING id`,
        {
          paymentId: refund.payment_transaction_id,
          reference: outcome?.id ?? null,
          amount: refund.amount,
          actorId: actor.id,
          metadata: JSON.stringify({ refundId: refund.id, reason: refund.reason }),
        },
        transaction,
      );
      await queryRows('UPDATE refunds SET transaction_id = $transactionId WHERE id = $refundId', { transactionId: payment.id, refundId }, transaction);
      logger.info('surplus payment refunded', { orderId: refund.order_id, refundId, amount: refund.amount });
      return;
    }
    const [before] = await queryRows<OrderRow>(`SELECT ${ORDER_COLUMNS} FROM orders WHERE id = $orderId`, { orderId: refund.order_id }, transaction);
    const refundedAfter = toMinor(before.amount_refunded) + toMinor(refund.amount);
    const [order] = await moveStatus<PaymentStatus, OrderRow>(PAYMENT_STATUS, refundedAfter === toMinor(before.amount_paid) ? 'refunded' : 'partially_refunded', {
      where: 't.id = $orderId',
      bind: { orderId: refund.order_id, amount: refund.amount },
      set: { amount_refunded: 't.amount_refunded + $amount' },
      returning: ORDER_COLUMNS_OF_T,
      transaction,
    });
    if (!order) throw new Error(`A refund of an order whose payment status is ${before.payment_status}`);
    const [payment] = await queryRows<{ id: string }>(
      `INSERT INTO transactions (order_id, type, provider, provider_reference, amount, currency, status, recorded_by, metadata)
       VALUES ($orderId, 'refund', $provider, $reference, $amount, $currency, 'succeeded', $actorId, $metadata::jsonb) RETURNING id`,
      {
        orderId: refund.order_id,
        provider: order.payment_provider ?? 'manual',
        reference: outcome && order.payment_provider === 'stripe' ? outcome.id : null,
        amount: refund.amount,
        currency: order.currency,
        actorId: actor.id,
        metadata: JSON.stringify({ refundId: refund.id, reason: refund.reason }),
      },
      transaction,
    );
    await queryRows('UPDATE refunds SET transaction_id = $transactionId WHERE id = $refundId', { transactionId: payment.id, refundId }, transaction);

    const amount = toMinor(refund.amount);
    const parts = await refundableParts(refund.order_id, transaction);
    let plan = refund.return_id
      ? planRefund(parts, { units: await returnedUnits(refund.return_id, transaction) })
      : refund.item_ids
        ? planRefund(parts, { itemIds: refund.item_ids })
        : null;
    // The lines' refund is what was paid for them, unless the order changed since it was reserved: then it is spread as any amount is.
    if (!plan || plan.amount !== amount) plan = planRefund(parts, { amount });
    await ledgerService.recordRefund(refund.id, refund.order_id, plan.shares, parts, transaction);
    await applyRefundShares(plan.shares, parts, transaction);
    if (refund.return_id) await returnRefunded(refund.return_id, actor, transaction);
    if (order.payment_status === 'refunded' && REFUNDABLE_STATUSES.includes(order.status)) {
      await moveOrder(order.id, 'refunded', { transaction, actor, note: refund.reason, from: REFUNDABLE_STATUSES });
      // Lines cancelled earlier were restocked with their cancel.
      const refunded = await moveStatus(FULFILLMENT_STATUS, 'refunded', { where: 't.order_id = $orderId', bind: { orderId: order.id }, transaction });
      // The refund that asked for the stock back may not be the last to complete.
      const [{ restock }] = await queryRows<{ restock: boolean }>(
        `SELECT EXISTS (SELECT 1 FROM refunds WHERE order_id = $orderId AND restock AND status = 'succeeded') AS restock`,
        { orderId: order.id },
        transaction,
      );
      if (restock && refunded.length > 0) await restockOrder(order.id, transaction, refunded.map((row) => row.id));
    }
  }
}

export const refundService = new RefundService();
