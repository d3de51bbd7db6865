import type { Transaction } from 'sequelize';
import { queryRows } from '../../platform/db/query';
import { inTransaction } from '../../platform/db/transaction';
import { getPaymentProvider, PaymentProviderError, type ProviderIntent } from '../../platform/payments';
import { recordJob } from '../../platform/jobs/outbox';
import { isUuid, type OrderStatus } from '../../models';
import { ConflictError, NotFoundError, PaymentRequiredError } from '../../platform/utils/errors';
import { logger } from '../../platform/utils/logger';
import { fromMinor, toMinor } from '../../platform/utils/money';
import { ledgerService } from '../finance';
import type { Caller } from '../accounts';
import { moveOrder, recordConfirmationMail, SYSTEM_ACTOR, type Actor } from '../order';
import { moveStatus } from '../../platform/db/status-machine';
import { PAYMENT_STATUS, TRANSACTION_STATUS } from './payment-states';
import { type OrderRow, CARD_PAYMENT, ORDER_COLUMNS, providerFailure, lockOrder } from './payment-rows';
import { refundService } from './refund.service';

/**
 * Money in: payment intents, their confirmation (by the client or by Stripe's webhook, whichever
 * comes first, once), manual payments, and cancelling a cancelled order's open intents. No provider
 * call is made while a database row is locked: state is reserved in one transaction, the provider
 * is called, the outcome is written in another.
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

export type ApplyOutcome = 'confirmed' | 'already' | 'mismatch' | 'unknown' | 'late' | 'surplus';

function notPayable(): ConflictError {
  return new ConflictError('ORDER_NOT_PAYABLE', 'This order is not waiting for a payment');
}

function intentView(intent: ProviderIntent): IntentView {
  return { provider: 'stripe', clientSecret: intent.clientSecret, paymentIntentId: intent.id, amount: fromMinor(intent.amount), currency: intent.currency };
}

export class IntentService {
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
        await refundService.reserveRefund(locked, toMinor(order.total_amount), SYSTEM_ACTOR, { reason: `Paid after the order was ${order.status}`, jobDelayMs: 0 }, transaction);
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
       ON CONFLICT (payment_transaction_id) WHERE payment_transaction_id IS NOT NULL AND status <> 'failed' DO NOTHING
       RETURNING id`,
      { orderId: order.id, amount: fromMinor(intent.amountReceived), paymentId },
      transaction,
    );
    if (refund) await recordJob('payments.settle-refund', { refundId: refund.id }, { transaction });
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
}

export const intentService = new IntentService();
