import type { Transaction } from 'sequelize';
import { queryRows } from '../../platform/db/query';
import { inTransaction } from '../../platform/db/transaction';
import type { DisputeAttributes, DisputeStatus } from '../../models';
import { logger } from '../../platform/utils/logger';
import { fromMinor, toMinor } from '../../platform/utils/money';
import { offsetOf, paginationOf, type PageQuery, type Pagination } from '../../platform/utils/pagination';
import { allocateRefund, lineCommission } from './money-rules';
import { moveStatus } from '../../platform/db/status-machine';
import { DISPUTE_STATUS } from './finance-states';
import { sqlFilter } from '../../platform/db/sql-filter';

/**
 * Card disputes as the provider reports them: an open dispute holds its order's lines out of
 * payouts; a lost one takes each line's seller's net share back through the ledger.
 */

export interface DisputeInput {
  providerDisputeId: string;
  /** The disputed payment at the provider (a payment intent id). */
  paymentReference: string;
  /** Minor units. */
  amount: number;
  currency: string;
  reason: string | null;
  /** The provider's status of the dispute. */
  status: string;
}

/** A dispute as admins see it: every column but updatedAt, with its order's number. */
export type DisputeView = Omit<DisputeAttributes, 'updatedAt'> & { orderNumber: string };

export interface DisputeQuery extends PageQuery {
  status?: DisputeStatus;
}

/** Stripe's dispute states as ours: an inquiry closed without a chargeback counts as won. */
function disputeStatusOf(providerStatus: string): DisputeStatus {
  if (providerStatus === 'lost') return 'lost';
  if (providerStatus === 'won' || providerStatus === 'warning_closed') return 'won';
  return 'open';
}

export class DisputeService {
  /**
   * Records what the provider says of a card dispute, once per dispute and state (events arrive
   * in any order and more than once): the order is flagged disputed and its lines are held (not
   * payable) while the dispute is open; won (or an inquiry closed), they are released; lost, each
   * line's seller gives back their net share of the disputed amount (a `dispute` ledger entry per
   * line, never twice for one dispute).
   */
  async recordDispute(input: DisputeInput): Promise<void> {
    const status = disputeStatusOf(input.status);
    await inTransaction(async (transaction) => {
      const [payment] = await queryRows<{ order_id: string }>(
        `SELECT order_id FROM transactions WHERE provider = 'stripe' AND type = 'payment' AND provider_reference = $reference`,
        { reference: input.paymentReference },
        transaction,
      );
      if (!payment) {
        logger.warn('dispute for no known payment', { disputeId: input.providerDisputeId, paymentReference: input.paymentReference });
        return;
      }
      const [order] = await queryRows<{ id: string; currency: string }>(
        'UPDATE orders SET disputed = true, updated_at = now() WHERE id = $orderId RETURNING id, currency',
        { orderId: payment.order_id },
        transaction,
      );
      // The first event of a dispute records it as it is then (a `closed` may come first); a later
      // one moves it on through the table, so a closed dispute stays closed whatever arrives after.
      const bind = {
        orderId: order.id,
        disputeId: input.providerDisputeId,
        reference: input.paymentReference,
        amount: fromMinor(Math.max(0, Math.trunc(input.amount))),
        currency: input.currency || order.currency,
        reason: input.reason,
        status,
      };
      let [dispute] = await queryRows<{ id: string; status: DisputeStatus; amount: string }>(
        `INSERT INTO disputes (order_id, provider_dispute_id, payment_reference, amount, currency, reason, status, closed_at)
         VALUES ($orderId, $disputeId, $reference, $amount, $currency, $reason, $status::varchar, CASE WHEN $status::varchar = 'open' THEN NULL ELSE now() END)
         ON CONFLICT (provider_dispute_id) DO NOTHING
         RETURNING id, status, amount`,
        bind,
        transaction,
      );
      if (!dispute && status !== 'open') {
        [dispute] = await moveStatus<DisputeStatus, { id: string; status: DisputeStatus; amount: string }>(DISPUTE_STATUS, status, {
          where: 't.provider_dispute_id = $disputeId',
          bind,
          set: { closed_at: 'now()', amount: '$amount', reason: 'coalesce($reason, t.reason)' },
          returning: 't.id, t.status, t.amount',
          transaction,
        });
      }
      if (!dispute) return;
      if (dispute.status === 'lost') await this.recordDisputeLost(dispute.id, order.id, toMinor(dispute.amount), transaction);
      logger.warn('payment disputed', { event: 'dispute', orderId: order.id, disputeId: input.providerDisputeId, status: dispute.status, reason: input.reason });
    }, { name: 'record dispute' });
  }

  /** For each sold line: −(its share of the disputed amount − the commission on that share). */
  private async recordDisputeLost(disputeId: string, orderId: string, amount: number, transaction: Transaction): Promise<void> {
    const [order] = await queryRows<{ amount_paid: string; amount_refunded: string }>('SELECT amount_paid, amount_refunded FROM orders WHERE id = $orderId', { orderId }, transaction);
    const lines = await queryRows<{ id: string; seller_id: string; seller_amount: string; refunded_amount: string; commission_rate: string }>(
      `SELECT oi.id, oi.seller_id, oi.seller_amount, oi.refunded_amount, oi.commission_rate FROM order_items oi
        WHERE oi.order_id = $orderId AND EXISTS (SELECT 1 FROM seller_ledger_entries s WHERE s.order_item_id = oi.id AND s.type = 'sale')
        ORDER BY oi.created_at, oi.id`,
      { orderId },
      transaction,
    );
    const remaining = new Map(lines.map((line) => [line.id, toMinor(line.seller_amount) - toMinor(line.refunded_amount)]));
    const shares = allocateRefund(
      amount,
      lines.map((line) => ({ id: line.id, remaining: remaining.get(line.id)! })),
      Math.max(amount, toMinor(order.amount_paid) - toMinor(order.amount_refunded)),
    );
    const entries = lines
      .filter((line) => shares.has(line.id))
      .map((line) => {
        const share = shares.get(line.id)!;
        const left = remaining.get(line.id)!;
        const rate = Number(line.commission_rate);
        const commissionOnShare = lineCommission(left, 0, rate) - lineCommission(left - share, 0, rate);
        return { id: line.id, sellerId: line.seller_id, amount: -(share - commissionOnShare) };
      })
      .filter((entry) => entry.amount !== 0);
    if (entries.length === 0) return;
    await queryRows(
      `INSERT INTO seller_ledger_entries (seller_id, type, amount, order_id, order_item_id, dispute_id, occurred_at)
       SELECT v.seller_id, 'dispute', v.amount, $orderId, v.id, $disputeId, now()
         FROM unnest($ids::uuid[], $sellerIds::uuid[], $amounts::numeric[]) AS v(id, seller_id, amount)
       ON CONFLICT DO NOTHING`,
      { orderId, disputeId, ids: entries.map((entry) => entry.id), sellerIds: entries.map((entry) => entry.sellerId), amounts: entries.map((entry) => fromMinor(entry.amount)) },
      transaction,
    );
  }

  /** Disputes, newest first, with their order's number. */
  async listDisputes(query: DisputeQuery): Promise<{ disputes: DisputeView[]; pagination: Pagination }> {
    const { where, bind } = sqlFilter({ status: query.status }, { status: 'd.status = $status' });
    const [{ total }] = await queryRows<{ total: number }>(`SELECT count(*)::int AS total FROM disputes d ${where}`, bind);
    const disputes = await queryRows<DisputeView>(
      `SELECT d.id, d.order_id AS "orderId", o.order_number AS "orderNumber", d.provider_dispute_id AS "providerDisputeId",
              d.payment_reference AS "paymentReference", d.amount, d.currency, d.reason, d.status, d.closed_at AS "closedAt", d.created_at AS "createdAt"
         FROM disputes d JOIN orders o ON o.id = d.order_id ${where}
        ORDER BY d.created_at DESC, d.id DESC LIMIT $limit OFFSET $offset`,
      { ...bind, limit: query.limit, offset: offsetOf(query) },
    );
    return {
      disputes,
      pagination: paginationOf(query, total),
    };
  }
}

export const disputeService = new DisputeService();
