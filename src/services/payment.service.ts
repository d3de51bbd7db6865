import type { Transaction } from 'sequelize';
import { getSequelize } from '../db';
import { queryRows } from '../db/hot-query';
import { inTransaction } from '../db/transaction';
import {
  getPaymentProvider,
  InvalidSignatureError,
  PaymentProviderError,
  type ProviderIntent,
  type ProviderRefund,
} from '../integrations/payments';
import { recordJob } from '../jobs/outbox';
import { isUuid, type OrderStatus, type TransactionStatus, type TransactionType } from '../models';
import { BadRequestError, ConflictError, NotFoundError, PaymentRequiredError, UpstreamError, ValidationError } from '../utils/errors';
import { logger } from '../utils/logger';
import { fromMinor, toMinor } from '../utils/money';
import { offsetOf, paginationOf, type PageQuery, type Pagination } from '../utils/pagination';
import { allocateRefund } from './money-rules';
import { moveOrder, SYSTEM_ACTOR, type Actor } from './order-state';
import { ledgerService } from './ledger.service';
import { orderService, type Caller } from './order.service';
import type { OrderView, TransactionView } from './order.serializer';
import { restockOrder } from './stock.service';

/**
 * Money in: payment intents, their confirmation (by the client or by Stripe's webhook, whichever
 * comes first, once), and refunds. No provider call is made while a database row is locked:
 * state is reserved in one transaction, the provider is called, the outcome is written in another.
 */

export interface IntentView {
  provider: 'stripe' | 'manual';
  clientSecret: string | null;
  paymentIntentId: string | null;
  amount: string;
  currency: string;
}

export interface RefundInput {
  /** Default: everything paid and not refunded yet. */
  amount?: string;
  reason?: string | null;
  /** Put the stock of the lines back (only with a refund that settles the whole order). */
  restock?: boolean;
}

export interface TransactionQuery extends PageQuery {
  status?: TransactionStatus;
  type?: TransactionType;
  from?: Date;
  to?: Date;
}

interface OrderRow {
  id: string;
  user_id: string;
  status: OrderStatus;
  payment_status: string;
  payment_provider: 'stripe' | 'manual' | null;
  payment_intent_id: string | null;
  total_amount: string;
  amount_paid: string;
  amount_refunded: string;
  currency: string;
}

interface RefundRow {
  id: string;
  order_id: string;
  amount: string;
  status: string;
  restock: boolean;
  reason: string | null;
  created_by: string | null;
}

/** The statuses from which a full refund moves an order to `refunded` (a cancelled order stays cancelled). */
const REFUNDABLE_STATUSES: OrderStatus[] = ['confirmed', 'processing', 'shipped', 'delivered'];
const SETTLE_RETRY_MS = 30_000;


function providerFailure(error: unknown): UpstreamError {
  return new UpstreamError('PAYMENT_PROVIDER_ERROR', error instanceof PaymentProviderError ? error.message : 'The payment provider did not answer');
}

async function lockOrder(orderId: string, transaction: Transaction): Promise<OrderRow | undefined> {
  const [order] = await queryRows<OrderRow>(
    `SELECT id, user_id, status, payment_status, payment_provider, payment_intent_id, total_amount, amount_paid, amount_refunded, currency
       FROM orders WHERE id = $orderId FOR UPDATE`,
    { orderId },
    transaction,
  );
  return order;
}

export class PaymentService {
  /**
   * The payment intent of a pending, unpaid order of the caller. Asking again returns the same
   * intent; a canceled one is replaced by a new attempt. The provider call happens with no row
   * locked and carries the key `order-<id>-intent-<attempt>`, so a retry after a timeout gets the
   * intent Stripe may already have made. Nothing is written unless the provider answered.
   */
  async createIntent(orderId: string, caller: Caller): Promise<IntentView> {
    const provider = getPaymentProvider();
    const order = await this.ownOrder(orderId, caller);
    if (order.status !== 'pending' || order.payment_status !== 'unpaid') throw new ConflictError('ORDER_NOT_PAYABLE', 'This order is not waiting for a payment');
    if (provider.name === 'manual') {
      const [updated] = await queryRows<OrderRow>(
        `UPDATE orders SET payment_provider = 'manual', updated_at = now()
          WHERE id = $id AND status = 'pending' AND payment_status = 'unpaid' AND payment_provider IS DISTINCT FROM 'stripe'
          RETURNING total_amount, currency`,
        { id: order.id },
      );
      if (!updated) throw new ConflictError('ORDER_NOT_PAYABLE', 'This order is not waiting for a payment');
      return { provider: 'manual', clientSecret: null, paymentIntentId: null, amount: updated.total_amount, currency: updated.currency };
    }

    let intent: ProviderIntent;
    try {
      if (order.payment_intent_id) {
        intent = await provider.retrieveIntent(order.payment_intent_id);
        if (intent.status === 'succeeded') throw new ConflictError('ORDER_NOT_PAYABLE', 'This order is paid; its confirmation is on its way');
      }
      if (!order.payment_intent_id || intent!.status === 'canceled') {
        const [{ attempts }] = await queryRows<{ attempts: number }>(
          `SELECT count(*)::int AS attempts FROM transactions WHERE order_id = $id AND type = 'payment' AND provider = 'stripe'`,
          { id: order.id },
        );
        intent = await provider.createIntent({ orderId: order.id, amount: toMinor(order.total_amount), currency: order.currency, key: `order-${order.id}-intent-${attempts + 1}` });
      }
    } catch (error) {
      if (error instanceof PaymentProviderError) throw providerFailure(error);
      throw error;
    }
    const current = intent!;
    await inTransaction(async (transaction) => {
      // Two requests at once get the same intent (same key): the unique reference keeps one row.
      await getSequelize().query(
        `INSERT INTO transactions (order_id, type, provider, provider_reference, amount, currency, status)
         VALUES ($orderId, 'payment', 'stripe', $intentId, $amount, $currency, 'pending')
         ON CONFLICT (provider, type, provider_reference) WHERE provider_reference IS NOT NULL DO NOTHING`,
        { bind: { orderId: order.id, intentId: current.id, amount: fromMinor(current.amount), currency: current.currency }, transaction },
      );
      await getSequelize().query(
        `UPDATE orders SET payment_provider = 'stripe', payment_intent_id = $intentId, updated_at = now()
          WHERE id = $orderId AND payment_status = 'unpaid'`,
        { bind: { orderId: order.id, intentId: current.id }, transaction },
      );
    }, { name: 'record intent' });
    return { provider: 'stripe', clientSecret: current.clientSecret, paymentIntentId: current.id, amount: fromMinor(current.amount), currency: current.currency };
  }

  /**
   * The client says it paid: the intent is fetched again from the provider and checked (this
   * order's, the caller's, the order's amount and currency) before anything changes. Confirms the
   * order if the intent succeeded (a no-op if the webhook was first); 402 otherwise.
   */
  async confirm(orderId: string, intentId: string, caller: Caller): Promise<OrderView> {
    const order = await this.ownOrder(orderId, caller);
    const provider = getPaymentProvider();
    if (provider.name !== 'stripe') throw new PaymentRequiredError('PAYMENT_NOT_COMPLETED', 'Manual payments are confirmed by an admin once received');
    const known = await queryRows<{ id: string }>(
      `SELECT id FROM transactions WHERE order_id = $orderId AND provider = 'stripe' AND type = 'payment' AND provider_reference = $intentId`,
      { orderId: order.id, intentId },
    );
    if (known.length === 0) throw new NotFoundError('PaymentIntent', 'No such payment intent for this order');
    let intent: ProviderIntent;
    try {
      intent = await provider.retrieveIntent(intentId);
    } catch (error) {
      throw providerFailure(error);
    }
    if (intent.orderId !== order.id) throw new NotFoundError('PaymentIntent', 'No such payment intent for this order');
    if (intent.status !== 'succeeded') throw new PaymentRequiredError('PAYMENT_NOT_COMPLETED', `The payment is ${intent.status.replace(/_/g, ' ')}`);
    const outcome = await this.applySucceeded(intent, { id: caller.id, role: caller.role });
    if (outcome === 'mismatch') throw new ConflictError('PAYMENT_MISMATCH', 'The payment does not match this order');
    return orderService.get(order.id, caller);
  }

  private async ownOrder(orderId: string, caller: Caller): Promise<OrderRow> {
    const [order] = isUuid(orderId)
      ? await queryRows<OrderRow>(
          'SELECT id, user_id, status, payment_status, payment_provider, payment_intent_id, total_amount, amount_paid, amount_refunded, currency FROM orders WHERE id = $orderId',
          { orderId },
        )
      : [];
    if (!order || order.user_id !== caller.id) throw new NotFoundError('Order');
    return order;
  }

  /**
   * Applies a succeeded intent to its order, once: the order row is locked, a paid order is left
   * alone, an intent this order did not make or whose amount or currency differs is refused
   * and logged as a security event. One payment transaction per intent (unique reference).
   */
  async applySucceeded(intent: ProviderIntent, actor: Actor): Promise<'confirmed' | 'already' | 'mismatch' | 'unknown' | 'late'> {
    if (!intent.orderId || !isUuid(intent.orderId)) {
      logger.warn('payment for no known order', { intentId: intent.id });
      return 'unknown';
    }
    const orderId = intent.orderId;
    return inTransaction(async (transaction) => {
      const order = await lockOrder(orderId, transaction);
      if (!order) {
        logger.warn('payment for no known order', { intentId: intent.id, orderId });
        return 'unknown';
      }
      const [made] = await queryRows<{ id: string }>(
        `SELECT id FROM transactions WHERE order_id = $orderId AND provider = 'stripe' AND type = 'payment' AND provider_reference = $intentId`,
        { orderId, intentId: intent.id },
        transaction,
      );
      if (!made || intent.amount !== toMinor(order.total_amount) || intent.amountReceived < intent.amount || intent.currency !== order.currency) {
        logger.warn('security: a payment does not match its order; not applied', {
          event: 'payment_mismatch',
          intentId: intent.id,
          orderId,
          intentAmount: intent.amount,
          intentCurrency: intent.currency,
          orderTotal: order.total_amount,
          orderCurrency: order.currency,
          knownIntent: Boolean(made),
        });
        return 'mismatch';
      }
      await getSequelize().query(`UPDATE transactions SET status = 'succeeded', failure_reason = NULL, updated_at = now() WHERE id = $id`, {
        bind: { id: made.id },
        transaction,
      });
      if (order.payment_status !== 'unpaid') return 'already';
      if (order.status !== 'pending') {
        // Paid after it expired: the money is recorded, and an admin refunds it.
        await getSequelize().query(
          `UPDATE orders SET payment_status = 'paid', payment_provider = 'stripe', amount_paid = total_amount, paid_at = now(), updated_at = now() WHERE id = $orderId`,
          { bind: { orderId }, transaction },
        );
        await ledgerService.recordSale(orderId, transaction);
        logger.error('payment arrived for an order that is no longer pending; refund it', { orderId, status: order.status, intentId: intent.id });
        return 'late';
      }
      await moveOrder(orderId, 'confirmed', {
        transaction,
        actor,
        note: 'Paid (card)',
        from: ['pending'],
        set: { payment_status: 'paid', payment_provider: 'stripe', payment_intent_id: intent.id, amount_paid: order.total_amount, paid_at: new Date() },
      });
      await ledgerService.recordSale(orderId, transaction);
      await orderService.recordConfirmationMail(orderId, transaction);
      logger.info('payment confirmed', { orderId, intentId: intent.id, by: actor.role });
      return 'confirmed';
    }, { name: 'apply payment' });
  }

  /**
   * Verifies a Stripe notification over its raw bytes and records it under its event id, with a
   * job to apply it, in one transaction; a second delivery of the same event records nothing.
   * Answers at once: applying (which may call Stripe) happens in the job.
   */
  async receiveWebhook(rawBody: Buffer, signature: string | undefined): Promise<{ duplicate: boolean }> {
    let event;
    try {
      event = getPaymentProvider().verifyEvent(rawBody, signature);
    } catch (error) {
      if (error instanceof InvalidSignatureError) {
        logger.warn('webhook refused: bad signature', { reason: error.message });
        throw new BadRequestError('INVALID_SIGNATURE', 'The Stripe signature is missing, wrong or too old');
      }
      throw error;
    }
    const verified = event;
    const duplicate = await inTransaction(async (transaction) => {
      const [row] = await queryRows<{ id: string }>(
        `INSERT INTO webhook_events (provider, event_id, type, payload) VALUES ('stripe', $eventId, $type, $payload::jsonb)
         ON CONFLICT (provider, event_id) DO NOTHING RETURNING id`,
        { eventId: verified.id, type: verified.type, payload: JSON.stringify(verified.object) },
        transaction,
      );
      if (!row) return true;
      await recordJob('payments.apply-event', { eventId: row.id }, { transaction, jobId: `webhook-${row.id}` });
      return false;
    }, { name: 'record webhook' });
    if (duplicate) logger.info('webhook event already received', { eventId: verified.id, type: verified.type });
    return { duplicate };
  }

  /** Applies a recorded event (the job's work). Safe to run again: each effect is guarded. */
  async applyEvent(eventRowId: string): Promise<void> {
    const [event] = await queryRows<{ id: string; event_id: string; type: string; payload: Record<string, unknown>; status: string }>(
      'SELECT id, event_id, type, payload, status FROM webhook_events WHERE id = $id',
      { id: eventRowId },
    );
    if (!event || event.status === 'processed') return;
    try {
      await this.dispatch(event.type, event.payload);
      await getSequelize().query(`UPDATE webhook_events SET status = 'processed', processed_at = now(), attempts = attempts + 1, error = NULL, updated_at = now() WHERE id = $id`, {
        bind: { id: event.id },
      });
    } catch (error) {
      await getSequelize().query(`UPDATE webhook_events SET status = 'failed', attempts = attempts + 1, error = $error, updated_at = now() WHERE id = $id`, {
        bind: { id: event.id, error: (error as Error).message.slice(0, 1000) },
      });
      throw error;
    }
  }

  private async dispatch(type: string, object: Record<string, unknown>): Promise<void> {
    const provider = getPaymentProvider();
    switch (type) {
      case 'payment_intent.succeeded':
      case 'payment_intent.payment_failed':
      case 'payment_intent.canceled': {
        // Events arrive in any order: the intent as it is now decides, never the event's copy.
        const intent = await provider.retrieveIntent(String(object.id));
        if (intent.status === 'succeeded') {
          await this.applySucceeded(intent, SYSTEM_ACTOR);
          return;
        }
        const status = type === 'payment_intent.canceled' ? 'canceled' : 'failed';
        const reason = (object.last_payment_error as { message?: string } | undefined)?.message ?? null;
        await getSequelize().query(
          `UPDATE transactions SET status = $status, failure_reason = $reason, updated_at = now()
            WHERE provider = 'stripe' AND type = 'payment' AND provider_reference = $intentId AND status IN ('pending', 'failed')`,
          { bind: { status, reason, intentId: intent.id } },
        );
        return;
      }
      case 'charge.refunded':
        await this.reconcileRefunds(String(object.payment_intent));
        return;
      case 'charge.dispute.created': {
        const intentId = String(object.payment_intent ?? '');
        const flagged = await queryRows<{ id: string }>(
          `UPDATE orders SET disputed = true, updated_at = now()
            WHERE id IN (SELECT order_id FROM transactions WHERE provider = 'stripe' AND type = 'payment' AND provider_reference = $intentId)
            RETURNING id`,
          { intentId },
        );
        logger.warn('payment disputed', { intentId, orderIds: flagged.map((row) => row.id), reason: object.reason });
        return;
      }
      default:
        logger.info('webhook event type not handled; acknowledged', { type });
    }
  }

  /**
   * Brings our refunds in line with the provider's for one intent: refunds made through the app
   * are completed, refunds made in Stripe's dashboard are recorded. Each provider refund counts once.
   */
  async reconcileRefunds(intentId: string): Promise<void> {
    const refunds = (await getPaymentProvider().listRefunds(intentId)).filter((refund) => refund.status === 'succeeded');
    if (refunds.length === 0) return;
    await inTransaction(async (transaction) => {
      const [owner] = await queryRows<{ order_id: string }>(
        `SELECT order_id FROM transactions WHERE provider = 'stripe' AND type = 'payment' AND provider_reference = $intentId`,
        { intentId },
        transaction,
      );
      if (!owner) {
        logger.warn('refunds for no known payment', { intentId });
        return;
      }
      const order = await lockOrder(owner.order_id, transaction);
      if (!order) return;
      for (const refund of refunds) {
        const [seen] = await queryRows<{ id: string }>('SELECT id FROM refunds WHERE provider_refund_id = $id', { id: refund.id }, transaction);
        if (seen) continue;
        let refundId = refund.refundId && isUuid(refund.refundId) ? refund.refundId : null;
        const [ours] = refundId ? await queryRows<{ id: string }>('SELECT id FROM refunds WHERE id = $id AND order_id = $orderId', { id: refundId, orderId: order.id }, transaction) : [];
        if (!ours) {
          const [created] = await queryRows<{ id: string }>(
            `INSERT INTO refunds (order_id, amount, reason, status) VALUES ($orderId, $amount, 'Refunded in Stripe', 'pending') RETURNING id`,
            { orderId: order.id, amount: fromMinor(refund.amount) },
            transaction,
          );
          refundId = created.id;
        }
        await this.completeRefund(refundId!, refund, SYSTEM_ACTOR, transaction);
      }
    }, { name: 'reconcile refunds' });
  }

  /**
   * Refunds part or all of what an order's customer paid (an admin), through the provider. The
   * amount is reserved under the order's row lock first, so two refunds at once can never add up
   * to more than was paid (409 REFUND_EXCEEDS_PAYMENT). A provider refusal leaves a failed refund
   * row and nothing else; a provider that does not answer leaves the refund pending, completed
   * later with the same idempotency key (by a job, or by the next refund request of the order).
   */
  async refund(orderId: string, admin: Caller, input: RefundInput): Promise<OrderView> {
    if (!isUuid(orderId)) throw new NotFoundError('Order');
    const actor: Actor = { id: admin.id, role: admin.role };
    const retried = await this.settlePendingRefunds(orderId, actor);
    const requested = input.amount === undefined ? undefined : toMinor(input.amount);
    if (requested !== undefined && retried.includes(requested)) return orderService.get(orderId, admin);

    const reserved = await inTransaction(async (transaction) => {
      const order = await lockOrder(orderId, transaction);
      if (!order) throw new NotFoundError('Order');
      if (order.payment_status === 'unpaid') throw new ConflictError('ORDER_NOT_REFUNDABLE', 'Nothing was paid for this order');
      const refundable = await this.refundable(order, transaction);
      const amount = requested ?? refundable;
      if (amount <= 0 || amount > refundable) {
        throw new ConflictError('REFUND_EXCEEDS_PAYMENT', `At most ${fromMinor(Math.max(refundable, 0))} can still be refunded`);
      }
      if (input.restock && amount !== refundable) {
        throw new ValidationError([{ field: 'restock', message: 'restock comes with a refund of everything left to refund' }]);
      }
      const refundId = await this.reserveRefund(order, amount, input.reason ?? null, Boolean(input.restock) && order.status !== 'cancelled', actor, transaction);
      if (order.payment_provider !== 'stripe') {
        await this.completeRefund(refundId, null, actor, transaction);
        return null;
      }
      return { refundId, intentId: order.payment_intent_id!, amount };
    }, { name: 'reserve refund' });
    if (reserved) await this.settleRefund(reserved.refundId, reserved.intentId, reserved.amount, actor, { throwOnFailure: true });
    logger.info('refund made', { orderId, by: admin.id, amount: input.amount ?? 'all' });
    return orderService.get(orderId, admin);
  }

  /** Paid minus refunded minus refunds still pending, in minor units. */
  private async refundable(order: OrderRow, transaction: Transaction): Promise<number> {
    const [{ pending }] = await queryRows<{ pending: string }>(
      `SELECT coalesce(sum(amount), 0)::text AS pending FROM refunds WHERE order_id = $orderId AND status = 'pending'`,
      { orderId: order.id },
      transaction,
    );
    return toMinor(order.amount_paid) - toMinor(order.amount_refunded) - toMinor(pending);
  }

  private async reserveRefund(order: OrderRow, amount: number, reason: string | null, restock: boolean, actor: Actor, transaction: Transaction): Promise<string> {
    const [row] = await queryRows<{ id: string }>(
      `INSERT INTO refunds (order_id, amount, reason, status, restock, created_by) VALUES ($orderId, $amount, $reason, 'pending', $restock, $actorId) RETURNING id`,
      { orderId: order.id, amount: fromMinor(amount), reason, restock, actorId: actor.id },
      transaction,
    );
    return row.id;
  }

  /**
   * Refunds whatever an order has paid and not refunded, within the caller's transaction (a
   * cancel): a manual payment is settled at once; a card payment is reserved here and sent to
   * the provider after the commit (see `afterCancel`). Returns the reserved refund, if any.
   */
  async refundEverythingIn(orderId: string, actor: Actor, reason: string, transaction: Transaction): Promise<{ refundId: string; intentId: string; amount: number } | null> {
    const order = await lockOrder(orderId, transaction);
    if (!order || order.payment_status === 'unpaid') return null;
    const amount = await this.refundable(order, transaction);
    if (amount <= 0) return null;
    const refundId = await this.reserveRefund(order, amount, reason, false, actor, transaction);
    if (order.payment_provider !== 'stripe') {
      await this.completeRefund(refundId, null, actor, transaction);
      return null;
    }
    return { refundId, intentId: order.payment_intent_id!, amount };
  }

  /**
   * After an unpaid order was cancelled (by its customer, an admin or the expiry job): its card
   * payment intent is cancelled at the provider, so the customer cannot pay for what is no longer
   * sold. Best effort: if it fails, a payment that still arrives is recorded and logged for a refund.
   */
  async releaseIntent(orderId: string): Promise<void> {
    const [order] = await queryRows<{ payment_intent_id: string | null }>(
      `SELECT payment_intent_id FROM orders WHERE id = $orderId AND status = 'cancelled' AND payment_status = 'unpaid' AND payment_provider = 'stripe'`,
      { orderId },
    );
    if (!order?.payment_intent_id) return;
    try {
      await getPaymentProvider().cancelIntent(order.payment_intent_id);
      await queryRows(
        `UPDATE transactions SET status = 'canceled', updated_at = now()
          WHERE order_id = $orderId AND provider = 'stripe' AND type = 'payment' AND provider_reference = $intentId AND status IN ('pending', 'failed')`,
        { orderId, intentId: order.payment_intent_id },
      );
    } catch (error) {
      logger.warn('could not cancel the payment intent of a cancelled order', { orderId, intentId: order.payment_intent_id, error: (error as Error).message });
    }
  }

  /** Sends a reserved card refund to the provider (after the cancel that reserved it committed). */
  async afterCancel(reserved: { refundId: string; intentId: string; amount: number } | null, actor: Actor): Promise<void> {
    if (reserved) await this.settleRefund(reserved.refundId, reserved.intentId, reserved.amount, actor, { throwOnFailure: false });
  }

  /** Re-sends the order's pending refunds (same keys); returns the amounts that completed now. */
  private async settlePendingRefunds(orderId: string, actor: Actor): Promise<number[]> {
    const pending = await queryRows<{ id: string; amount: string; payment_intent_id: string | null }>(
      `SELECT r.id, r.amount, o.payment_intent_id FROM refunds r JOIN orders o ON o.id = r.order_id
        WHERE r.order_id = $orderId AND r.status = 'pending' AND o.payment_provider = 'stripe' ORDER BY r.created_at`,
      { orderId },
    );
    const settled: number[] = [];
    for (const row of pending) {
      if (!row.payment_intent_id) continue;
      if (await this.settleRefund(row.id, row.payment_intent_id, toMinor(row.amount), actor, { throwOnFailure: false })) settled.push(toMinor(row.amount));
    }
    return settled;
  }

  /** Job and retries: completes one pending refund with its own idempotency key. */
  async settleRefundById(refundId: string): Promise<void> {
    const [row] = await queryRows<{ id: string; amount: string; status: string; payment_intent_id: string | null }>(
      `SELECT r.id, r.amount, r.status, o.payment_intent_id FROM refunds r JOIN orders o ON o.id = r.order_id WHERE r.id = $refundId`,
      { refundId },
    );
    if (!row || row.status !== 'pending' || !row.payment_intent_id) return;
    await this.settleRefund(row.id, row.payment_intent_id, toMinor(row.amount), SYSTEM_ACTOR, { throwOnFailure: true });
  }

  /** Calls the provider for a reserved refund and writes the outcome. Returns true when it completed. */
  private async settleRefund(refundId: string, intentId: string, amount: number, actor: Actor, options: { throwOnFailure: boolean }): Promise<boolean> {
    let outcome: ProviderRefund;
    try {
      outcome = await getPaymentProvider().refund({ intentId, amount, refundId, key: `refund-${refundId}` });
    } catch (error) {
      const rejected = error instanceof PaymentProviderError && error.rejected;
      if (rejected) {
        await getSequelize().query(`UPDATE refunds SET status = 'failed', reason = concat_ws(' | ', reason, $why::text), updated_at = now() WHERE id = $refundId AND status = 'pending'`, {
          bind: { refundId, why: (error as Error).message.slice(0, 500) },
        });
      } else {
        // No answer: it may have been made. It stays reserved and is sent again with the same key.
        await recordJob('payments.settle-refund', { refundId }, { delayMs: SETTLE_RETRY_MS });
      }
      logger.warn('refund not completed by the provider', { refundId, rejected, error: (error as Error).message });
      if (options.throwOnFailure) throw providerFailure(error);
      return false;
    }
    if (outcome.status === 'failed' || outcome.status === 'canceled') {
      await getSequelize().query(`UPDATE refunds SET status = 'failed', provider_refund_id = $providerId, updated_at = now() WHERE id = $refundId AND status = 'pending'`, {
        bind: { refundId, providerId: outcome.id },
      });
      if (options.throwOnFailure) throw new UpstreamError('PAYMENT_PROVIDER_ERROR', 'The payment provider refused the refund');
      return false;
    }
    await inTransaction(async (transaction) => {
      const [row] = await queryRows<{ order_id: string }>('SELECT order_id FROM refunds WHERE id = $refundId', { refundId }, transaction);
      if (row) await lockOrder(row.order_id, transaction);
      await this.completeRefund(refundId, outcome, actor, transaction);
    }, { name: 'complete refund' });
    return true;
  }

  /**
   * Writes a refund that happened (once: the pending row flips to succeeded): its transaction,
   * the order's refunded amount and payment status, the amounts allocated to the lines, and,
   * when nothing paid is left, the order's move to refunded (with its stock back if asked).
   * The caller holds the order's row lock.
   */
  private async completeRefund(refundId: string, outcome: ProviderRefund | null, actor: Actor, transaction: Transaction): Promise<void> {
    const [refund] = await queryRows<RefundRow>(
      `UPDATE refunds SET status = 'succeeded', provider_refund_id = $providerId, updated_at = now()
        WHERE id = $refundId AND status = 'pending'
        RETURNING id, order_id, amount, status, restock, reason, created_by`,
      { refundId, providerId: outcome?.id ?? null },
      transaction,
    );
    if (!refund) return;
    const [order] = await queryRows<OrderRow>(
      `UPDATE orders SET amount_refunded = amount_refunded + $amount,
              payment_status = CASE WHEN amount_refunded + $amount = amount_paid THEN 'refunded' ELSE 'partially_refunded' END::enum_orders_payment_status,
              updated_at = now()
        WHERE id = $orderId
        RETURNING id, status, payment_status, payment_provider, currency, amount_paid, amount_refunded`,
      { orderId: refund.order_id, amount: refund.amount },
      transaction,
    );
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
    await getSequelize().query('UPDATE refunds SET transaction_id = $transactionId WHERE id = $refundId', { bind: { transactionId: payment.id, refundId }, transaction });

    const lines = await queryRows<{ id: string; line_total: string; refunded_amount: string }>(
      'SELECT id, line_total, refunded_amount FROM order_items WHERE order_id = $orderId ORDER BY created_at, id',
      { orderId: refund.order_id },
      transaction,
    );
    const shares = allocateRefund(
      toMinor(refund.amount),
      lines.map((line) => ({ id: line.id, remaining: toMinor(line.line_total) - toMinor(line.refunded_amount) })),
      // What was outstanding before this refund: the order row above already counts it.
      toMinor(order.amount_paid) - toMinor(order.amount_refunded) + toMinor(refund.amount),
    );
    await ledgerService.recordRefund(refund.id, shares, transaction);
    if (shares.size > 0) {
      const ids = [...shares.keys()];
      await getSequelize().query(
        `UPDATE order_items oi SET refunded_amount = oi.refunded_amount + v.amount, updated_at = now()
           FROM unnest($ids::uuid[], $amounts::numeric[]) AS v(id, amount) WHERE oi.id = v.id`,
        { bind: { ids, amounts: ids.map((id) => fromMinor(shares.get(id)!)) }, transaction },
      );
    }
    if (order.payment_status === 'refunded' && REFUNDABLE_STATUSES.includes(order.status)) {
      await moveOrder(order.id, 'refunded', { transaction, actor, note: refund.reason, from: REFUNDABLE_STATUSES });
      await getSequelize().query(`UPDATE order_items SET fulfillment_status = 'refunded', updated_at = now() WHERE order_id = $orderId AND fulfillment_status <> 'cancelled'`, {
        bind: { orderId: order.id },
        transaction,
      });
      if (refund.restock) await restockOrder(order.id, transaction);
    }
  }

  /** The payment transactions of an order its owner (or an admin) may see. */
  async listForOrder(orderId: string, caller: Caller): Promise<TransactionView[]> {
    const order = await orderService.get(orderId, caller);
    return order.transactions ?? [];
  }

  /** Every payment transaction, newest first, filtered. */
  async adminList(query: TransactionQuery): Promise<{ transactions: TransactionView[]; pagination: Pagination }> {
    const conditions: string[] = [];
    const bind: Record<string, unknown> = {};
    if (query.status) {
      bind.status = query.status;
      conditions.push('status = $status::enum_transactions_status');
    }
    if (query.type) {
      bind.type = query.type;
      conditions.push('type = $type::enum_transactions_type');
    }
    if (query.from) {
      bind.from = query.from;
      conditions.push('created_at >= $from');
    }
    if (query.to) {
      bind.to = query.to;
      conditions.push('created_at <= $to');
    }
    const where = conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '';
    const [{ total }] = await queryRows<{ total: number }>(`SELECT count(*)::int AS total FROM transactions ${where}`, bind);
    const rows = await queryRows<{
      id: string;
      order_id: string;
      type: TransactionType;
      provider: 'stripe' | 'manual';
      provider_reference: string | null;
      amount: string;
      currency: string;
      status: string;
      created_at: Date;
    }>(
      `SELECT id, order_id, type, provider, provider_reference, amount, currency, status, created_at FROM transactions ${where}
        ORDER BY created_at DESC, id DESC LIMIT $limit OFFSET $offset`,
      { ...bind, limit: query.limit, offset: offsetOf(query) },
    );
    return {
      transactions: rows.map((row) => ({
        id: row.id,
        orderId: row.order_id,
        type: row.type,
        provider: row.provider,
        providerReference: row.provider_reference,
        amount: row.amount,
        currency: row.currency,
        status: row.status,
        createdAt: row.created_at,
      })),
      pagination: paginationOf(query, total),
    };
  }
}

export const paymentService = new PaymentService();
