import type { Transaction } from 'sequelize';
import { queryRows } from '../../platform/db/query';
import { inTransaction } from '../../platform/db/transaction';
import {
  getPaymentProvider,
  InvalidSignatureError,
  providerBackstopMs,
  PaymentProviderError,
  type ProviderIntent,
  type ProviderRefund,
} from '../../platform/payments';
import { recordJob } from '../../platform/jobs/outbox';
import { isUuid, type OrderStatus, type PaymentStatus, type RefundStatus, type TransactionStatus, type TransactionType } from '../../models';
import { BadRequestError, ConflictError, NotFoundError, PaymentRequiredError, UpstreamError, ValidationError } from '../../platform/utils/errors';
import { logger } from '../../platform/utils/logger';
import { fromMinor, toMinor } from '../../platform/utils/money';
import { offsetOf, paginationOf, type PageQuery, type Pagination } from '../../platform/utils/pagination';
import { allocateRefund, ledgerService, proportionalShare } from '../finance';
import type { Caller } from '../accounts';
import { FULFILLMENT_STATUS, moveOrder, recordConfirmationMail, SYSTEM_ACTOR, type Actor, type TransactionView } from '../order';
import { sqlFilter } from '../../platform/db/sql-filter';
import { moveStatus } from '../../platform/db/status-machine';
import { PAYMENT_STATUS, REFUND_STATUS, TRANSACTION_STATUS } from './payment-states';
import { restockOrder } from '../catalog';

/**
 * Money in: payment intents, their confirmation (by the client or by Stripe's webhook, whichever
 * comes first, once), and refunds. No provider call is made while a database row is locked:
 * state is reserved in one transaction, the provider is called, the outcome is written in another.
 * Every provider call that a committed change requires (a refund, cancelling intents) is recorded
 * in the outbox by the transaction that decides it, so it happens even if this process dies right
 * after the commit; the request tries it once at once, so its answer shows the outcome.
 *
 * An order is paid once: the first successful payment pays it; any other (a card payment landing
 * after a manual one, a second intent) is a surplus payment, kept outside the order's amounts and
 * refunded in full by a job. A payment for an order already cancelled or expired pays it and is
 * refunded in full by a job, so the order ends `refunded`.
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
  /** Only payments beyond the one that paid their order, and their refunds. */
  surplus?: boolean;
  from?: Date;
  to?: Date;
}

export type ApplyOutcome = 'confirmed' | 'already' | 'mismatch' | 'unknown' | 'late' | 'surplus';

interface OrderRow {
  id: string;
  user_id: string;
  status: OrderStatus;
  payment_status: string;
  payment_provider: 'stripe' | 'manual' | null;
  payment_intent_id: string | null;
  intent_attempt: number;
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
  payment_transaction_id: string | null;
  item_ids: string[] | null;
}

interface ReserveRefundOptions {
  reason: string | null;
  restock?: boolean;
  /** The lines the refund is for; default: spread over the order's lines. */
  itemIds?: string[];
  /** The job that sends it to the provider waits this long (the request that reserved it tries first). */
  jobDelayMs: number;
}

/** The statuses from which a full refund moves an order to `refunded` (a cancelled order stays cancelled). */
const REFUNDABLE_STATUSES: OrderStatus[] = ['confirmed', 'processing', 'shipped', 'delivered'];
/** A refund still pending after this long is sent again by the sweep (its jobs may have run out of attempts). */
const SWEEP_AFTER_MINUTES = 5;
const SWEEP_BATCH = 100;
/** The card payment transaction of an intent (`$intentId`), as a condition on `transactions t`. */
const CARD_PAYMENT = "t.provider = 'stripe' AND t.type = 'payment' AND t.provider_reference = $intentId";
const ORDER_COLUMNS = 'id, user_id, status, payment_status, payment_provider, payment_intent_id, intent_attempt, total_amount, amount_paid, amount_refunded, currency';
/** The same columns of `orders t`, for a statement that aliases the table. */
const ORDER_COLUMNS_OF_T = ORDER_COLUMNS.split(', ').map((column) => `t.${column}`).join(', ');

/** The provider's own words go to the log only; the client gets ours and the request id. */
function providerFailure(error: unknown, context: Record<string, unknown>): UpstreamError {
  logger.warn('payment provider call failed', { ...context, rejected: error instanceof PaymentProviderError && error.rejected, error: (error as Error).message });
  return new UpstreamError('PAYMENT_PROVIDER_ERROR', 'The payment provider could not complete this request; please try again later');
}

async function lockOrder(orderId: string, transaction: Transaction): Promise<OrderRow | undefined> {
  const [order] = await queryRows<OrderRow>(`SELECT ${ORDER_COLUMNS} FROM orders WHERE id = $orderId FOR UPDATE`, { orderId }, transaction);
  return order;
}

function notPayable(): ConflictError {
  return new ConflictError('ORDER_NOT_PAYABLE', 'This order is not waiting for a payment');
}

function intentView(intent: ProviderIntent): IntentView {
  return { provider: 'stripe', clientSecret: intent.clientSecret, paymentIntentId: intent.id, amount: fromMinor(intent.amount), currency: intent.currency };
}

export class PaymentService {
  /**
   * The payment intent of a pending, unpaid order of the caller. An order has at most one open
   * intent: the key it is created with (`order-<id>-intent-<attempt>`) is read under the order's
   * row lock, and the attempt moves on only past an intent the provider reports canceled, so
   * requests at once (or a retry after a timeout) get the one intent the provider made for that
   * key. Nothing is written unless the provider answered.
   */
  async createIntent(orderId: string, caller: Caller): Promise<IntentView> {
    const provider = getPaymentProvider();
    const order = await this.ownOrder(orderId, caller);
    if (order.status !== 'pending' || order.payment_status !== 'unpaid') throw notPayable();
    if (provider.name === 'manual') {
      const [updated] = await queryRows<OrderRow>(
        `UPDATE orders SET payment_provider = 'manual', updated_at = now()
          WHERE id = $id AND status = 'pending' AND payment_status = 'unpaid' AND payment_provider IS DISTINCT FROM 'stripe'
          RETURNING total_amount, currency`,
        { id: order.id },
      );
      if (!updated) throw notPayable();
      return { provider: 'manual', clientSecret: null, paymentIntentId: null, amount: updated.total_amount, currency: updated.currency };
    }

    const call = async <T>(what: string, run: () => Promise<T>): Promise<T> => {
      try {
        return await run();
      } catch (error) {
        if (error instanceof PaymentProviderError) throw providerFailure(error, { orderId: order.id, call: what });
        throw error;
      }
    };
    let { attempt, intentId } = await this.intentAttempt(order.id, null);
    // An intent the order waits on is answered as it is, unless the provider canceled it.
    for (let round = 0; intentId && round < 3; round += 1) {
      const current = await call('retrieve intent', () => provider.retrieveIntent(intentId!));
      if (current.status === 'succeeded') throw new ConflictError('ORDER_NOT_PAYABLE', 'This order is paid; its confirmation is on its way');
      if (current.status !== 'canceled') return intentView(current);
      ({ attempt, intentId } = await this.intentAttempt(order.id, current.id));
    }
    if (intentId) throw new ConflictError('ORDER_NOT_PAYABLE', 'The payment is changing; please try again');
    const created = await call('create intent', () =>
      provider.createIntent({ orderId: order.id, amount: toMinor(order.total_amount), currency: order.currency, key: `order-${order.id}-intent-${attempt}` }),
    );
    const adopted = await inTransaction(async (transaction) => {
      const locked = await lockOrder(order.id, transaction);
      // Recorded whatever happens next: an intent we know of is one a cancel can reach.
      await queryRows(
        `INSERT INTO transactions (order_id, type, provider, provider_reference, amount, currency, status)
         VALUES ($orderId, 'payment', 'stripe', $intentId, $amount, $currency, 'pending')
         ON CONFLICT (provider, type, provider_reference) WHERE provider_reference IS NOT NULL DO NOTHING`,
        { orderId: order.id, intentId: created.id, amount: fromMinor(created.amount), currency: created.currency },
        transaction,
      );
      const waiting =
        locked !== undefined &&
        locked.status === 'pending' &&
        locked.payment_status === 'unpaid' &&
        locked.intent_attempt === attempt &&
        (locked.payment_intent_id === null || locked.payment_intent_id === created.id);
      if (!waiting) {
        // Cancelled, paid or moved on meanwhile: this intent must not stay payable.
        await recordJob('payments.cancel-intents', { orderId: order.id }, { transaction });
        return false;
      }
      await queryRows(
        `UPDATE orders SET payment_provider = 'stripe', payment_intent_id = $intentId, updated_at = now() WHERE id = $orderId`,
        { orderId: order.id, intentId: created.id },
        transaction,
      );
      return true;
    }, { name: 'record intent' });
    if (!adopted) {
      await this.cancelOpenIntents(order.id);
      throw notPayable();
    }
    return intentView(created);
  }

  /**
   * The attempt number the order's next intent is created with, and the intent it waits on. The
   * first call takes attempt 1; `canceled`, the intent the provider reported canceled, moves the
   * order past it (once, however many requests saw it canceled at the same time).
   */
  private async intentAttempt(orderId: string, canceled: string | null): Promise<{ attempt: number; intentId: string | null }> {
    const [moved] = await queryRows<{ intent_attempt: number; payment_intent_id: string | null }>(
      `UPDATE orders SET intent_attempt = intent_attempt + 1, payment_intent_id = NULL, updated_at = now()
        WHERE id = $orderId AND status = 'pending' AND payment_status = 'unpaid'
          AND ((intent_attempt = 0 AND payment_intent_id IS NULL) OR payment_intent_id = $canceled::varchar)
        RETURNING intent_attempt, payment_intent_id`,
      { orderId, canceled },
    );
    if (moved) return { attempt: moved.intent_attempt, intentId: moved.payment_intent_id };
    const [order] = await queryRows<{ status: OrderStatus; payment_status: string; intent_attempt: number; payment_intent_id: string | null }>(
      'SELECT status, payment_status, intent_attempt, payment_intent_id FROM orders WHERE id = $orderId',
      { orderId },
    );
    if (!order || order.status !== 'pending' || order.payment_status !== 'unpaid') throw notPayable();
    return { attempt: Math.max(order.intent_attempt, 1), intentId: order.payment_intent_id };
  }

  /**
   * The client says it paid: the intent is fetched again from the provider and checked (this
   * order's, the caller's, the order's amount and currency) before anything changes. Confirms the
   * order if the intent succeeded (a no-op if the webhook was first); 402 otherwise.
   */
  async confirm(orderId: string, intentId: string, caller: Caller): Promise<void> {
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
      throw providerFailure(error, { orderId: order.id, intentId, call: 'retrieve intent' });
    }
    if (intent.orderId !== order.id) throw new NotFoundError('PaymentIntent', 'No such payment intent for this order');
    if (intent.status !== 'succeeded') throw new PaymentRequiredError('PAYMENT_NOT_COMPLETED', `The payment is ${intent.status.replace(/_/g, ' ')}`);
    const outcome = await this.applySucceeded(intent, { id: caller.id, role: caller.role });
    if (outcome === 'mismatch') throw new ConflictError('PAYMENT_MISMATCH', 'The payment does not match this order');
  }

  private async ownOrder(orderId: string, caller: Caller): Promise<OrderRow> {
    const [order] = isUuid(orderId) ? await queryRows<OrderRow>(`SELECT ${ORDER_COLUMNS} FROM orders WHERE id = $orderId`, { orderId }) : [];
    if (!order || order.user_id !== caller.id) throw new NotFoundError('Order');
    return order;
  }

  /**
   * Applies a succeeded intent to its order, once, under the order's row lock. An intent this
   * order did not make, or whose amount or currency differs, is refused and logged as a security
   * event. The first payment of a pending order confirms it; a payment for an order cancelled or
   * expired meanwhile pays it and is refunded in full by a job ('late'); a payment for an order
   * already paid otherwise is a surplus payment, refunded in full by a job ('surplus').
   */
  async applySucceeded(intent: ProviderIntent, actor: Actor): Promise<ApplyOutcome> {
    if (!intent.orderId || !isUuid(intent.orderId)) {
      logger.warn('payment for no known order', { intentId: intent.id });
      return 'unknown';
    }
    const orderId = intent.orderId;
    const outcome = await inTransaction(async (transaction): Promise<ApplyOutcome> => {
      const order = await lockOrder(orderId, transaction);
      if (!order) {
        logger.warn('payment for no known order', { intentId: intent.id, orderId });
        return 'unknown';
      }
      const [made] = await queryRows<{ id: string; surplus: boolean }>(
        `SELECT id, surplus FROM transactions WHERE order_id = $orderId AND provider = 'stripe' AND type = 'payment' AND provider_reference = $intentId`,
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
      const paidByThis = order.payment_status !== 'unpaid' && order.payment_provider === 'stripe' && order.payment_intent_id === intent.id;
      if (made.surplus || paidByThis) {
        await this.markPaymentSucceeded(made.id, false, transaction);
        return 'already';
      }
      if (order.payment_status !== 'unpaid') {
        await this.markPaymentSucceeded(made.id, true, transaction);
        await this.reserveSurplusRefund(made.id, order, intent, transaction);
        logger.warn('surplus payment: the order was already paid; it is refunded automatically', {
          event: 'surplus_payment',
          orderId,
          intentId: intent.id,
          paidBy: order.payment_provider,
        });
        return 'surplus';
      }
      await this.markPaymentSucceeded(made.id, false, transaction);
      await this.markOrderPaid(orderId, 'stripe', intent.id, transaction);
      if (order.status !== 'pending') {
        // Paid after it was cancelled or expired: the money is the order's, and goes back in full.
        await ledgerService.recordSale(orderId, transaction);
        const locked = { ...order, payment_status: 'paid', payment_provider: 'stripe' as const, payment_intent_id: intent.id, amount_paid: order.total_amount };
        await this.reserveRefund(locked, toMinor(order.total_amount), SYSTEM_ACTOR, { reason: `Paid after the order was ${order.status}`, jobDelayMs: 0 }, transaction);
        logger.warn('payment arrived for an order that is no longer pending; it is refunded automatically', {
          event: 'late_payment',
          orderId,
          status: order.status,
          intentId: intent.id,
        });
        return 'late';
      }
      await moveOrder(orderId, 'confirmed', { transaction, actor, note: 'Paid (card)', from: ['pending'] });
      await ledgerService.recordSale(orderId, transaction);
      await recordConfirmationMail(orderId, transaction);
      return 'confirmed';
    }, { name: 'apply payment' });
    if (outcome === 'confirmed') logger.info('payment confirmed', { orderId, intentId: intent.id, by: actor.role });
    return outcome;
  }

  private async markPaymentSucceeded(transactionId: string, surplus: boolean, transaction: Transaction): Promise<void> {
    await moveStatus(TRANSACTION_STATUS, 'succeeded', {
      where: 't.id = $id',
      bind: { id: transactionId, surplus },
      set: { surplus: '$surplus', failure_reason: 'NULL' },
      transaction,
    });
  }

  /**
   * Records a manual payment of the whole order total (an admin saw the bank transfer or the
   * cash) and confirms the order, with a confirmation mail to the customer; once only.
   */
  async markPaidManually(orderId: string, admin: Caller, reference?: string | null): Promise<void> {
    if (!isUuid(orderId)) throw new NotFoundError('Order');
    await inTransaction(async (transaction) => {
      const order = await lockOrder(orderId, transaction);
      if (!order) throw new NotFoundError('Order');
      if (order.payment_status !== 'unpaid') throw new ConflictError('ORDER_ALREADY_PAID', 'This order is already paid');
      if (order.status !== 'pending' || (order.payment_provider !== null && order.payment_provider !== 'manual')) {
        throw new ConflictError('ORDER_NOT_PAYABLE', `An order that is ${order.status} cannot be paid`);
      }
      await queryRows(
        `INSERT INTO transactions (order_id, type, provider, amount, currency, status, recorded_by, metadata)
         VALUES ($orderId, 'payment', 'manual', $amount, $currency, 'succeeded', $adminId, $metadata::jsonb)`,
        { orderId, amount: order.total_amount, currency: order.currency, adminId: admin.id, metadata: JSON.stringify({ reference: reference ?? null }) },
        transaction,
      );
      await this.markOrderPaid(orderId, 'manual', null, transaction);
      await moveOrder(orderId, 'confirmed', {
        transaction,
        actor: { id: admin.id, role: admin.role },
        note: reference ? `Paid (manual, reference ${reference})` : 'Paid (manual)',
        from: ['pending'],
      });
      await ledgerService.recordSale(orderId, transaction);
      await recordConfirmationMail(orderId, transaction);
    }, { name: 'mark paid' });
    logger.info('manual payment recorded', { orderId, by: admin.id });
  }

  /**
   * The order's move from unpaid to paid, by this provider and payment (the caller holds the
   * order's row lock and has checked it is unpaid): its amount paid is its total.
   */
  async markOrderPaid(orderId: string, provider: 'stripe' | 'manual', intentId: string | null, transaction: Transaction): Promise<void> {
    const moved = await moveStatus(PAYMENT_STATUS, 'paid', {
      where: 't.id = $orderId',
      bind: { orderId, provider, intentId },
      set: {
        payment_provider: '$provider::enum_orders_payment_provider',
        payment_intent_id: 'coalesce($intentId, t.payment_intent_id)',
        amount_paid: 't.total_amount',
        paid_at: 'now()',
      },
      transaction,
    });
    if (moved.length === 0) throw new ConflictError('ORDER_ALREADY_PAID', 'This order is already paid');
  }

  /** The refund of a surplus payment, once per payment (a unique index), sent by a job at once. */
  private async reserveSurplusRefund(paymentId: string, order: OrderRow, intent: ProviderIntent, transaction: Transaction): Promise<void> {
    const [refund] = await queryRows<{ id: string }>(
      `INSERT INTO refunds (order_id, amount, reason, status, payment_transaction_id)
       VALUES ($orderId, $amount, 'Surplus payment: the order was already paid', 'pending', $paymentId)
       ON CONFLICT (payment_transaction_id) WHERE payment_transaction_id IS NOT NULL DO NOTHING
       RETURNING id`,
      { orderId: order.id, amount: fromMinor(intent.amountReceived), paymentId },
      transaction,
    );
    if (refund) await recordJob('payments.settle-refund', { refundId: refund.id }, { transaction });
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
      await queryRows(`UPDATE webhook_events SET status = 'processed', processed_at = now(), attempts = attempts + 1, error = NULL, updated_at = now() WHERE id = $id`, {
        id: event.id,
      });
    } catch (error) {
      await queryRows(`UPDATE webhook_events SET status = 'failed', attempts = attempts + 1, error = $error, updated_at = now() WHERE id = $id`, {
        id: event.id,
        error: (error as Error).message.slice(0, 1000),
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
        const status = intent.status === 'canceled' || type === 'payment_intent.canceled' ? 'canceled' : 'failed';
        const reason = (object.last_payment_error as { message?: string } | undefined)?.message ?? null;
        await moveStatus(TRANSACTION_STATUS, status, { where: CARD_PAYMENT, bind: { intentId: intent.id, reason }, set: { failure_reason: '$reason' } });
        return;
      }
      case 'charge.refunded':
        await this.reconcileRefunds(String(object.payment_intent));
        return;
      case 'charge.dispute.created':
      case 'charge.dispute.updated':
      case 'charge.dispute.closed':
        await ledgerService.recordDispute({
          providerDisputeId: String(object.id ?? ''),
          paymentReference: String(object.payment_intent ?? ''),
          amount: Number(object.amount ?? 0),
          currency: String(object.currency ?? ''),
          reason: typeof object.reason === 'string' ? object.reason : null,
          status: String(object.status ?? ''),
        });
        return;
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
          // Made in Stripe's dashboard. A surplus payment's refund never touches the order's amounts.
          const [surplusRefund] = payment.surplus
            ? await queryRows<{ id: string; status: string }>('SELECT id, status FROM refunds WHERE payment_transaction_id = $paymentId', { paymentId: payment.id }, transaction)
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
  private async reserveRefund(order: OrderRow, amount: number, actor: Actor, options: ReserveRefundOptions, transaction: Transaction): Promise<string> {
    const [row] = await queryRows<{ id: string }>(
      `INSERT INTO refunds (order_id, amount, reason, status, restock, created_by, item_ids)
       VALUES ($orderId, $amount, $reason, 'pending', $restock, $actorId, $itemIds::uuid[]) RETURNING id`,
      { orderId: order.id, amount: fromMinor(amount), reason: options.reason, restock: Boolean(options.restock), actorId: actor.id, itemIds: options.itemIds ?? null },
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
    const [lines] = await queryRows<{ all_remaining: string; these_remaining: string }>(
      `SELECT coalesce(sum(line_total - refunded_amount), 0)::text AS all_remaining,
              coalesce(sum(line_total - refunded_amount) FILTER (WHERE id = ANY($itemIds::uuid[])), 0)::text AS these_remaining
         FROM order_items WHERE order_id = $orderId`,
      { orderId, itemIds },
      transaction,
    );
    const outstanding = toMinor(order.amount_paid) - toMinor(order.amount_refunded);
    const amount = Math.min(proportionalShare(outstanding, toMinor(lines.these_remaining), toMinor(lines.all_remaining)), await this.refundable(order, transaction));
    if (amount <= 0) return null;
    return this.reserveRefund(order, amount, actor, { reason, itemIds, jobDelayMs: providerBackstopMs() }, transaction);
  }

  /**
   * Cancels at the provider every open card intent of an order that does not wait on it (the
   * order was cancelled, paid otherwise, or moved to another intent). An intent that succeeded
   * meanwhile is applied instead (and so refunded). The job of a cancel, and its first try.
   */
  async cancelOpenIntents(orderId: string, options: { throwOnFailure?: boolean } = {}): Promise<void> {
    const open = await queryRows<{ provider_reference: string }>(
      `SELECT t.provider_reference FROM transactions t JOIN orders o ON o.id = t.order_id
        WHERE t.order_id = $orderId AND t.provider = 'stripe' AND t.type = 'payment' AND t.status IN ('pending', 'failed')
          AND t.provider_reference IS NOT NULL
          AND NOT (o.status = 'pending' AND o.payment_status = 'unpaid' AND o.payment_intent_id IS NOT DISTINCT FROM t.provider_reference)`,
      { orderId },
    );
    if (open.length === 0) return;
    const provider = getPaymentProvider();
    let failure: unknown;
    for (const { provider_reference: intentId } of open) {
      try {
        await provider.cancelIntent(intentId);
        await moveStatus(TRANSACTION_STATUS, 'canceled', { where: CARD_PAYMENT, bind: { intentId } });
      } catch (error) {
        // Refused: most likely paid meanwhile. The intent as it is now decides.
        const intent = error instanceof PaymentProviderError && error.rejected ? await provider.retrieveIntent(intentId).catch(() => undefined) : undefined;
        if (intent?.status === 'succeeded') {
          await this.applySucceeded(intent, SYSTEM_ACTOR);
        } else if (intent?.status === 'canceled') {
          await moveStatus(TRANSACTION_STATUS, 'canceled', { where: CARD_PAYMENT, bind: { intentId } });
        } else {
          logger.warn('could not cancel a payment intent', { orderId, intentId, error: (error as Error).message });
          failure = error;
        }
      }
    }
    if (failure && options.throwOnFailure) throw failure;
  }

  /** The job behind a pending refund: sends it with its own idempotency key; throws to be retried. */
  async settleRefundById(refundId: string): Promise<void> {
    await this.settleRefund(refundId, SYSTEM_ACTOR, { throwOnFailure: true });
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
      returning: 't.id, t.order_id, t.amount, t.status, t.restock, t.reason, t.created_by, t.payment_transaction_id, t.item_ids',
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

    const lines = await queryRows<{ id: string; line_total: string; refunded_amount: string }>(
      'SELECT id, line_total, refunded_amount FROM order_items WHERE order_id = $orderId ORDER BY created_at, id',
      { orderId: refund.order_id },
      transaction,
    );
    const amount = toMinor(refund.amount);
    let shares: Map<string, number>;
    if (refund.item_ids) {
      const targeted = lines
        .filter((line) => refund.item_ids!.includes(line.id))
        .map((line) => ({ id: line.id, remaining: toMinor(line.line_total) - toMinor(line.refunded_amount) }));
      const remaining = targeted.reduce((sum, line) => sum + line.remaining, 0);
      // The lines' whole remaining amounts (the rest of the refund is their tax and shipping share).
      shares = allocateRefund(amount, targeted, Math.max(amount, remaining));
    } else {
      shares = allocateRefund(
        amount,
        lines.map((line) => ({ id: line.id, remaining: toMinor(line.line_total) - toMinor(line.refunded_amount) })),
        // What was outstanding before this refund: the order row above already counts it.
        toMinor(order.amount_paid) - toMinor(order.amount_refunded) + amount,
      );
    }
    await ledgerService.recordRefund(refund.id, refund.order_id, shares, transaction);
    if (shares.size > 0) {
      const ids = [...shares.keys()];
      await queryRows(
        `UPDATE order_items oi SET refunded_amount = oi.refunded_amount + v.amount, updated_at = now()
           FROM unnest($ids::uuid[], $amounts::numeric[]) AS v(id, amount) WHERE oi.id = v.id`,
        { ids, amounts: ids.map((id) => fromMinor(shares.get(id)!)) },
        transaction,
      );
    }
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

  /** Every payment transaction, newest first, filtered. */
  async adminList(query: TransactionQuery): Promise<{ transactions: TransactionView[]; pagination: Pagination }> {
    const { where, bind } = sqlFilter(
      { status: query.status, type: query.type, surplus: query.surplus, from: query.from, to: query.to },
      {
        status: 'status = $status::enum_transactions_status',
        type: 'type = $type::enum_transactions_type',
        surplus: 'surplus = $surplus',
        from: 'created_at >= $from',
        to: 'created_at <= $to',
      },
    );
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
      surplus: boolean;
      created_at: Date;
    }>(
      `SELECT id, order_id, type, provider, provider_reference, amount, currency, status, surplus, created_at FROM transactions ${where}
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
        surplus: row.surplus,
        createdAt: row.created_at,
      })),
      pagination: paginationOf(query, total),
    };
  }
}

export const paymentService = new PaymentService();
