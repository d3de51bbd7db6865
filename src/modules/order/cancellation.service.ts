import type { Transaction } from 'sequelize';
import { queryRows } from '../../platform/db/query';
import { inTransaction } from '../../platform/db/transaction';
import { recordJob } from '../../platform/jobs/outbox';
import { isUuid, type OrderStatus } from '../../models';
import { ConflictError, NotFoundError } from '../../platform/utils/errors';
import { logger } from '../../platform/utils/logger';
import type { Caller } from '../accounts';
import { actorOf, canMove, moveOrder, SYSTEM_ACTOR, type Actor } from './order-state';
import { providerBackstopMs } from '../../platform/payments';
import { payments } from './payments-port';
import { serializeOrder, type OrderView } from './order.serializer';
import { moveStatus } from '../../platform/db/status-machine';
import { FULFILLMENT_STATUS } from './fulfillment-state';
import { mailShipped } from './order-notifications';
import { restockOrder } from '../catalog';
import { orderService } from './order.service';

/**
 * Orders leaving the happy path: a customer's or an admin's cancel (restock, refund through the
 * payments port), the expiry of unpaid orders, and an admin's move of a whole order.
 */

export interface AdminStatusInput {
  status: OrderStatus;
  trackingNumber?: string | null;
  trackingUrl?: string | null;
  note?: string | null;
}

/** What a cancel leaves to do after its commit (each also recorded as a job in its transaction). */
interface CancelOutcome {
  refundId: string | null;
  /** The order may have open card intents to cancel at the provider. */
  cancelIntents: boolean;
}

const EXPIRY_BATCH = 200;

/**
 * Gives back the promotion use of an order cancelled before it was paid, in the cancel's
 * transaction: the use row flips to released once (a cancel and an expiry racing move the order
 * once anyway, and the flip is conditional), and only a flip lowers the count of a code with a
 * usage limit (one without keeps no count: its live use rows are its uses). A paid order
 * that is cancelled keeps its use: it was a sale, refunded.
 */
async function releasePromotionUse(orderId: string, transaction: Transaction): Promise<void> {
  await queryRows(
    `WITH released AS (
       UPDATE promotion_uses u SET released_at = now()
        WHERE u.order_id = $orderId AND u.released_at IS NULL
          AND EXISTS (SELECT 1 FROM orders o WHERE o.id = u.order_id AND o.payment_status = 'unpaid')
       RETURNING u.promotion_id
     )
     UPDATE promotions p SET used_count = p.used_count - CASE WHEN p.usage_limit IS NULL THEN 0 ELSE 1 END, updated_at = now()
       FROM released r WHERE p.id = r.promotion_id`,
    { orderId },
    transaction,
  );
}

export class CancellationService {
  /**
   * Cancels a pending or confirmed order (its owner, or an admin): the stock of its lines comes
   * back exactly once (the move is conditional), a paid order is refunded in full, its open card
   * intents are cancelled, and the lines are marked cancelled. Once a line has shipped the
   * customer can no longer cancel (409 ORDER_NOT_CANCELLABLE); an admin's cancel then cancels the
   * lines not shipped yet only (see cancelIn). The refund and the intent cancels are recorded as
   * jobs with the cancel, and tried once at once after it commits.
   */
  async cancel(orderId: string, caller: Caller, reason?: string | null): Promise<OrderView> {
    await orderService.findVisible(orderId, caller);
    const actor = actorOf(caller);
    const outcome = await inTransaction((transaction) => this.cancelIn(orderId, actor, reason ?? null, transaction), { name: 'cancel' });
    await this.afterCancel(orderId, outcome, actor);
    logger.info('order cancelled', { orderId, by: caller.id });
    return serializeOrder(await orderService.load(orderId, undefined, { transactions: true }));
  }

  /** The provider calls a committed cancel recorded as jobs, tried at once so the answer shows them; the jobs stay as the backstop. */
  private async afterCancel(orderId: string, outcome: CancelOutcome, actor: Actor): Promise<void> {
    if (outcome.refundId) await payments().settleRefund(outcome.refundId, actor, { throwOnFailure: false });
    if (outcome.cancelIntents) await payments().cancelOpenIntents(orderId);
  }

  /**
   * The cancel itself, under the order's row lock (which a seller shipping a line also takes, so
   * the two cannot cross). With no line shipped the whole order is cancelled. With some shipped,
   * only an admin may cancel, and only the lines not shipped yet: they are cancelled, restocked
   * and refunded their share (with their part of tax and shipping), and the order, all of whose
   * remaining lines have shipped, moves to shipped. `asStatusMove`: refused as any move outside
   * the table is (an admin's PATCH status), not as a cancel request.
   */
  private async cancelIn(orderId: string, actor: Actor, reason: string | null, transaction: Transaction, asStatusMove = false): Promise<CancelOutcome> {
    const [order] = await queryRows<{ status: OrderStatus; payment_provider: string | null }>(
      'SELECT status, payment_provider FROM orders WHERE id = $orderId FOR UPDATE',
      { orderId },
      transaction,
    );
    if (!order) throw new NotFoundError('Order');
    const [{ shipped, open }] = await queryRows<{ shipped: number; open: number }>(
      `SELECT count(*) FILTER (WHERE shipped_at IS NOT NULL OR fulfillment_status IN ('shipped', 'delivered'))::int AS shipped,
              count(*) FILTER (WHERE fulfillment_status = 'unfulfilled')::int AS open
         FROM order_items WHERE order_id = $orderId`,
      { orderId },
      transaction,
    );
    const cancellable = order.status === 'pending' || order.status === 'confirmed' || order.status === 'processing';
    if (shipped > 0 && open > 0 && cancellable) {
      if (actor.role !== 'admin') throw new ConflictError('ORDER_NOT_CANCELLABLE', 'A line of this order has shipped: it can no longer be cancelled');
      return this.cancelUnshippedLines(orderId, actor, reason, transaction);
    }
    if (shipped > 0 && !asStatusMove) throw new ConflictError('ORDER_NOT_CANCELLABLE', 'Every line of this order has shipped: it can no longer be cancelled');
    await moveOrder(orderId, 'cancelled', {
      transaction,
      actor,
      note: reason,
      from: ['pending', 'confirmed'],
      set: { cancellation_reason: reason },
      refusal: asStatusMove ? undefined : (current) => new ConflictError('ORDER_NOT_CANCELLABLE', `An order that is ${current} cannot be cancelled`),
    });
    await restockOrder(orderId, transaction);
    await moveStatus(FULFILLMENT_STATUS, 'cancelled', { where: 't.order_id = $orderId', bind: { orderId }, transaction });
    await releasePromotionUse(orderId, transaction);
    const refundId = await payments().refundEverythingIn(orderId, actor, reason ?? 'Order cancelled', transaction);
    return { refundId, cancelIntents: await this.recordIntentCancels(orderId, order.payment_provider, transaction) };
  }

  private async cancelUnshippedLines(orderId: string, actor: Actor, reason: string | null, transaction: Transaction): Promise<CancelOutcome> {
    const cancelled = await moveStatus(FULFILLMENT_STATUS, 'cancelled', { where: 't.order_id = $orderId', bind: { orderId }, transaction });
    const itemIds = cancelled.map((row) => row.id);
    await restockOrder(orderId, transaction, itemIds);
    const note = `Lines not shipped cancelled${reason ? `: ${reason}` : ''}`;
    const refundId = await payments().refundLinesIn(orderId, itemIds, actor, note, transaction);
    await moveOrder(orderId, 'shipped', { transaction, actor, note, from: ['confirmed', 'processing'] });
    await mailShipped(orderId, transaction);
    return { refundId, cancelIntents: false };
  }

  /** Records the job that cancels a card order's open intents (in the cancel's transaction); true when there may be some. */
  private async recordIntentCancels(orderId: string, provider: string | null, transaction: Transaction): Promise<boolean> {
    if (provider !== 'stripe') return false;
    await recordJob('payments.cancel-intents', { orderId }, { transaction, delayMs: providerBackstopMs() });
    return true;
  }

  /**
   * Cancels unpaid pending orders past their payment deadline and returns their stock. Safe to
   * run in several workers at once: each order moves (and is restocked) by one of them only.
   * Also forgets expired idempotency keys and guest carts. Returns how many orders it cancelled.
   */
  async expireDue(): Promise<number> {
    const due = await queryRows<{ id: string }>(
      `SELECT id FROM orders WHERE status = 'pending' AND expires_at <= now() ORDER BY expires_at LIMIT ${EXPIRY_BATCH}`,
      {},
    );
    let expired = 0;
    for (const { id } of due) {
      try {
        const cancelIntents = await inTransaction(async (transaction) => {
          await moveOrder(id, 'cancelled', {
            transaction,
            actor: SYSTEM_ACTOR,
            note: 'Payment not received in time',
            from: ['pending'],
            set: { cancellation_reason: 'payment_timeout' },
          });
          await restockOrder(id, transaction);
          await moveStatus(FULFILLMENT_STATUS, 'cancelled', { where: 't.order_id = $id', bind: { id }, transaction });
          await releasePromotionUse(id, transaction);
          const [order] = await queryRows<{ payment_provider: string | null }>('SELECT payment_provider FROM orders WHERE id = $id', { id }, transaction);
          return this.recordIntentCancels(id, order?.payment_provider ?? null, transaction);
        }, { name: 'expire order' });
        expired += 1;
        await this.afterCancel(id, { refundId: null, cancelIntents }, SYSTEM_ACTOR);
      } catch (error) {
        // Paid or cancelled meanwhile (or by another worker): nothing to do.
        if (error instanceof ConflictError) continue;
        throw error;
      }
    }
    await queryRows('DELETE FROM idempotency_keys WHERE expires_at <= now()', {});
    await queryRows('DELETE FROM carts WHERE user_id IS NULL AND expires_at <= now()', {});
    if (expired > 0) logger.info('unpaid orders expired', { count: expired });
    return expired;
  }

  /**
   * An admin moves a whole order. `shipped` ships every unshipped line (with the tracking given)
   * and mails the customer; `delivered` delivers the shipped lines; `cancelled` is a cancel
   * (restock, refund); `refunded` refunds what was paid. A move not in the table is 409
   * INVALID_STATUS_TRANSITION; `confirmed` comes only from a payment (mark-paid).
   */
  async adminSetStatus(orderId: string, admin: Caller, input: AdminStatusInput): Promise<OrderView> {
    if (!isUuid(orderId)) throw new NotFoundError('Order');
    const actor = actorOf(admin);
    const note = input.note ?? null;
    if (input.status === 'refunded') {
      // The move happens with the refund that settles what was paid (through the provider, outside any lock).
      const [current] = await queryRows<{ status: OrderStatus }>('SELECT status FROM orders WHERE id = $orderId', { orderId });
      if (!current) throw new NotFoundError('Order');
      if (!canMove(current.status, 'refunded')) throw new ConflictError('INVALID_STATUS_TRANSITION', `An order cannot move from ${current.status} to refunded`);
      await payments().refund(orderId, admin, { reason: note });
      logger.info('order status set', { orderId, status: input.status, by: admin.id });
      return orderService.get(orderId, admin);
    }
    const nothingToDo: CancelOutcome = { refundId: null, cancelIntents: false };
    const outcome = await inTransaction(async (transaction): Promise<CancelOutcome> => {
      switch (input.status) {
        case 'cancelled':
          return this.cancelIn(orderId, actor, note, transaction, true);
        case 'shipped': {
          const tracking = { tracking_number: input.trackingNumber ?? null, tracking_url: input.trackingUrl ?? null };
          await moveOrder(orderId, 'shipped', { transaction, actor, note, set: tracking });
          await moveStatus(FULFILLMENT_STATUS, 'shipped', {
            where: 't.order_id = $orderId',
            bind: { orderId, trackingNumber: tracking.tracking_number, trackingUrl: tracking.tracking_url },
            set: { tracking_number: 'coalesce($trackingNumber, t.tracking_number)', tracking_url: 'coalesce($trackingUrl, t.tracking_url)', shipped_at: 'now()' },
            transaction,
          });
          await mailShipped(orderId, transaction);
          return nothingToDo;
        }
        case 'delivered':
          await moveOrder(orderId, 'delivered', { transaction, actor, note });
          await moveStatus(FULFILLMENT_STATUS, 'delivered', { where: 't.order_id = $orderId', bind: { orderId }, set: { delivered_at: 'now()' }, transaction });
          return nothingToDo;
        case 'confirmed':
        case 'pending':
          await moveOrder(orderId, input.status, {
            transaction,
            actor,
            note,
            from: [],
            refusal: (current) =>
              new ConflictError('INVALID_STATUS_TRANSITION', `An order cannot be moved from ${current} to ${input.status} by hand; a payment confirms it`),
          });
          return nothingToDo;
        default:
          await moveOrder(orderId, input.status, { transaction, actor, note });
          return nothingToDo;
      }
    }, { name: 'admin order status' });
    await this.afterCancel(orderId, outcome, actor);
    logger.info('order status set', { orderId, status: input.status, by: admin.id });
    return orderService.get(orderId, admin);
  }
}

export const cancellationService = new CancellationService();
