import type { Transaction } from 'sequelize';
import { config } from '../../platform/config';
import { queryRows } from '../../platform/db/query';
import { inTransaction } from '../../platform/db/transaction';
import { getPaymentProvider, PaymentProviderError } from '../../platform/payments';
import { sendEmail } from '../../platform/jobs/email.job';
import { recordJob } from '../../platform/jobs/outbox';
import { isUuid, type DisputeAttributes, type DisputeStatus, type LedgerEntryType, type PayoutStatus, type SellerPayoutAttributes } from '../../models';
import { ConflictError, NotFoundError } from '../../platform/utils/errors';
import { logger } from '../../platform/utils/logger';
import { formatMoney, fromMinor, toMinor } from '../../platform/utils/money';
import { offsetOf, paginationOf, type PageQuery, type Pagination } from '../../platform/utils/pagination';
import { allocateRefund, lineCommission, lineCommissionSql } from './money-rules';
import { moveStatus } from '../../platform/db/status-machine';
import { DISPUTE_STATUS, PAYOUT_STATUS } from './finance-states';
import { sqlFilter } from '../../platform/db/sql-filter';

/**
 * What sellers are owed, as a journal (seller_ledger_entries) written with the money events, and
 * the payouts that settle it. Balances are SQL aggregates over the journal:
 * - pending: entries of lines not payable yet (not delivered, or within PAYOUT_HOLD_DAYS of it);
 * - available: entries of payable lines not in a payout yet (a refund that came after its line
 *   was paid out is such an entry: negative, netted in the next payout);
 * - paidOut: payouts marked paid.
 * Every entry not in a payout is in pending or available, and each payout's entries add up to
 * its payout entry: so all entries add up to available + pending.
 */

export interface LedgerEntryView {
  id: string;
  type: LedgerEntryType;
  amount: string;
  orderId: string | null;
  orderItemId: string | null;
  payoutId: string | null;
  createdAt: Date;
}

export interface BalanceView {
  pending: string;
  available: string;
  paidOut: string;
}

/** A payout as the API shows it: every column but updatedAt. */
export type PayoutView = Omit<SellerPayoutAttributes, 'updatedAt'>;

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

export interface RangeQuery {
  from?: Date;
  to?: Date;
}

export interface PayoutQuery extends PageQuery {
  status?: PayoutStatus;
  sellerId?: string;
}

interface PayoutRow {
  id: string;
  seller_id: string;
  period_start: Date;
  period_end: Date;
  gross_amount: string;
  commission_amount: string;
  refund_amount: string;
  net_amount: string;
  currency: string;
  status: PayoutStatus;
  paid_at: Date | null;
  reference: string | null;
  item_count: number;
  transfer_id: string | null;
  failure_reason: string | null;
  created_at: Date;
}

/**
 * A line is payable once delivered and PAYOUT_HOLD_DAYS have passed since, unless its order has a
 * dispute open. `oi` is the order_items row.
 */
function payableSql(): string {
  return `(oi.delivered_at IS NOT NULL AND oi.delivered_at <= now() - make_interval(days => ${Number(config.commerce.payoutHoldDays)})
           AND NOT EXISTS (SELECT 1 FROM disputes d WHERE d.order_id = oi.order_id AND d.status = 'open'))`;
}

/** Stripe's dispute states as ours: an inquiry closed without a chargeback counts as won. */
function disputeStatusOf(providerStatus: string): DisputeStatus {
  if (providerStatus === 'lost') return 'lost';
  if (providerStatus === 'won' || providerStatus === 'warning_closed') return 'won';
  return 'open';
}

function payoutView(row: PayoutRow): PayoutView {
  return {
    id: row.id,
    sellerId: row.seller_id,
    periodStart: row.period_start,
    periodEnd: row.period_end,
    grossAmount: row.gross_amount,
    commissionAmount: row.commission_amount,
    refundAmount: row.refund_amount,
    netAmount: row.net_amount,
    currency: row.currency,
    status: row.status,
    paidAt: row.paid_at,
    reference: row.reference,
    itemCount: row.item_count,
    transferId: row.transfer_id,
    failureReason: row.failure_reason,
    createdAt: row.created_at,
  };
}

/** Thrown inside a payout's transaction when the claimed entries net to nothing: it rolls back. */
class NothingToPay extends Error {}

export class LedgerService {
  /**
   * The sale and its commission, for every line of orders that were just paid (a cancelled line is
   * no sale: a payment that arrives after a cancel is refunded), and the orders in their payment
   * days' sales (sales_days). Called once per order, by the move from unpaid to paid, under the
   * order's row lock (or by the order generator for its batches); ledger entries are also unique
   * per line.
   */
  async recordSale(orderId: string, transaction: Transaction): Promise<void> {
    await this.recordSales([orderId], transaction);
  }

  async recordSales(orderIds: string[], transaction: Transaction): Promise<void> {
    await queryRows(
      `INSERT INTO seller_ledger_entries (seller_id, type, amount, order_id, order_item_id, occurred_at)
       SELECT oi.seller_id, t.type,
              CASE t.type WHEN 'sale' THEN oi.line_total ELSE -${lineCommissionSql('oi.line_total', '0', 'oi.commission_rate')} END,
              oi.order_id, oi.id, o.paid_at
         FROM order_items oi
         JOIN orders o ON o.id = oi.order_id
        CROSS JOIN (VALUES ('sale'::enum_seller_ledger_entries_type), ('commission'::enum_seller_ledger_entries_type)) AS t(type)
        WHERE oi.order_id = ANY($orderIds::uuid[]) AND o.paid_at IS NOT NULL AND oi.fulfillment_status <> 'cancelled'
       ON CONFLICT DO NOTHING`,
      { orderIds },
      transaction,
    );
    await queryRows(
      `INSERT INTO sales_days AS d (day, orders, amount_paid, tax_shipping, commission)
       SELECT (o.paid_at AT TIME ZONE 'UTC')::date, count(*), sum(o.amount_paid), sum(o.tax_amount + o.shipping_amount),
              coalesce(sum((SELECT sum(${lineCommissionSql('oi.line_total', 'oi.refunded_amount', 'oi.commission_rate')}) FROM order_items oi WHERE oi.order_id = o.id)), 0)
         FROM orders o WHERE o.id = ANY($orderIds::uuid[]) AND o.paid_at IS NOT NULL
        GROUP BY 1
       ON CONFLICT (day) DO UPDATE
          SET orders = d.orders + EXCLUDED.orders, amount_paid = d.amount_paid + EXCLUDED.amount_paid,
              tax_shipping = d.tax_shipping + EXCLUDED.tax_shipping, commission = d.commission + EXCLUDED.commission, updated_at = now()`,
      { orderIds },
      transaction,
    );
  }

  /**
   * A refund's share of each line (minor units), and the commission given back with it: the
   * commission of a line is always that of what is left of it, so the two entries of each
   * refund telescope to round_half_up((lineTotal − refunded) × rate). Entries are written for the
   * lines the ledger holds a sale of (a line cancelled before its order was paid holds none); the
   * commission given back leaves the sales of the order's payment day in any case. Call before
   * the lines' refunded_amount is raised by these shares.
   */
  async recordRefund(refundId: string, orderId: string, shares: Map<string, number>, transaction: Transaction): Promise<void> {
    if (shares.size === 0) return;
    const ids = [...shares.keys()];
    const [{ given_back: givenBack }] = await queryRows<{ given_back: string }>(
      `WITH lines AS (
         SELECT oi.id, oi.seller_id, oi.order_id, v.amount,
                ${lineCommissionSql('oi.line_total', 'oi.refunded_amount', 'oi.commission_rate')}
                  - ${lineCommissionSql('oi.line_total', '(oi.refunded_amount + v.amount)', 'oi.commission_rate')} AS given_back,
                EXISTS (SELECT 1 FROM seller_ledger_entries s WHERE s.order_item_id = oi.id AND s.type = 'sale') AS sold
           FROM unnest($ids::uuid[], $amounts::numeric[]) AS v(id, amount)
           JOIN order_items oi ON oi.id = v.id
       ), written AS (
         -- Runs whether or not the outer statement reads it, as every data-modifying WITH does.
         INSERT INTO seller_ledger_entries (seller_id, type, amount, order_id, order_item_id, refund_id, occurred_at)
         SELECT seller_id, type, amount, order_id, id, $refundId, now() FROM (
           SELECT l.seller_id, t.type, l.order_id, l.id, CASE t.type WHEN 'refund' THEN -l.amount ELSE l.given_back END AS amount
             FROM lines l
            CROSS JOIN (VALUES ('refund'::enum_seller_ledger_entries_type), ('commission'::enum_seller_ledger_entries_type)) AS t(type)
            WHERE l.sold
         ) entries
         WHERE amount <> 0
         ON CONFLICT DO NOTHING
       )
       SELECT coalesce(sum(given_back), 0)::text AS given_back FROM lines`,
      { refundId, ids, amounts: ids.map((id) => fromMinor(shares.get(id)!)) },
      transaction,
    );
    if (toMinor(givenBack) === 0) return;
    await queryRows(
      `UPDATE sales_days SET commission = commission - $givenBack, updated_at = now()
        WHERE day = (SELECT (paid_at AT TIME ZONE 'UTC')::date FROM orders WHERE id = $orderId)`,
      { givenBack, orderId },
      transaction,
    );
  }

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
    const lines = await queryRows<{ id: string; seller_id: string; line_total: string; refunded_amount: string; commission_rate: string }>(
      `SELECT oi.id, oi.seller_id, oi.line_total, oi.refunded_amount, oi.commission_rate FROM order_items oi
        WHERE oi.order_id = $orderId AND EXISTS (SELECT 1 FROM seller_ledger_entries s WHERE s.order_item_id = oi.id AND s.type = 'sale')
        ORDER BY oi.created_at, oi.id`,
      { orderId },
      transaction,
    );
    const remaining = new Map(lines.map((line) => [line.id, toMinor(line.line_total) - toMinor(line.refunded_amount)]));
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

  /**
   * Builds sales_days again from the orders (an operator's repair after editing orders by hand,
   * and the tests that move payments in time). Locks the table meanwhile.
   */
  async rebuildSalesDays(): Promise<void> {
    await inTransaction(async (transaction) => {
      await queryRows('LOCK TABLE sales_days IN EXCLUSIVE MODE', {}, transaction);
      await queryRows('DELETE FROM sales_days', {}, transaction);
      await queryRows(
        `INSERT INTO sales_days (day, orders, amount_paid, tax_shipping, commission)
         SELECT (o.paid_at AT TIME ZONE 'UTC')::date, count(*), sum(o.amount_paid), sum(o.tax_amount + o.shipping_amount), coalesce(sum(c.commission), 0)
           FROM orders o
           LEFT JOIN LATERAL (
             SELECT sum(${lineCommissionSql('oi.line_total', 'oi.refunded_amount', 'oi.commission_rate')}) AS commission FROM order_items oi WHERE oi.order_id = o.id
           ) c ON true
          WHERE o.paid_at IS NOT NULL AND o.payment_status IN ('paid', 'partially_refunded', 'refunded')
          GROUP BY 1`,
        {},
        transaction,
      );
    }, { name: 'rebuild sales days' });
  }

  async balance(sellerId: string): Promise<BalanceView> {
    const [row] = await queryRows<{ pending: string; available: string; paid_out: string }>(
      `SELECT coalesce(sum(e.amount) FILTER (WHERE NOT ${payableSql()}), 0)::text AS pending,
              coalesce(sum(e.amount) FILTER (WHERE ${payableSql()}), 0)::text AS available,
              (SELECT coalesce(sum(net_amount), 0) FROM seller_payouts WHERE seller_id = $sellerId AND status = 'paid')::text AS paid_out
         FROM seller_ledger_entries e
         JOIN order_items oi ON oi.id = e.order_item_id
        WHERE e.seller_id = $sellerId AND e.payout_id IS NULL`,
      { sellerId },
    );
    return { pending: fromMinor(toMinor(row.pending)), available: fromMinor(toMinor(row.available)), paidOut: fromMinor(toMinor(row.paid_out)) };
  }

  /** The seller's journal, newest first, with the balance. */
  async ledger(sellerId: string, query: RangeQuery & PageQuery): Promise<{ entries: LedgerEntryView[]; balance: BalanceView; pagination: Pagination }> {
    const { where, bind } = sqlFilter({ sellerId, from: query.from, to: query.to }, { sellerId: 'seller_id = $sellerId', from: 'occurred_at >= $from', to: 'occurred_at < $to' });
    const [{ total }] = await queryRows<{ total: number }>(`SELECT count(*)::int AS total FROM seller_ledger_entries ${where}`, bind);
    const rows = await queryRows<{ id: string; type: LedgerEntryType; amount: string; order_id: string | null; order_item_id: string | null; payout_id: string | null; occurred_at: Date }>(
      `SELECT id, type, amount, order_id, order_item_id, payout_id, occurred_at FROM seller_ledger_entries ${where}
        ORDER BY occurred_at DESC, created_at DESC, id DESC LIMIT $limit OFFSET $offset`,
      { ...bind, limit: query.limit, offset: offsetOf(query) },
    );
    return {
      entries: rows.map((row) => ({
        id: row.id,
        type: row.type,
        amount: row.amount,
        orderId: row.order_id,
        orderItemId: row.order_item_id,
        payoutId: row.payout_id,
        createdAt: row.occurred_at,
      })),
      balance: await this.balance(sellerId),
      pagination: paginationOf(query, total),
    };
  }

  /**
   * Creates today's payout (UTC day) of every seller with payable entries not yet paid out, each
   * in its own transaction: the payout row is keyed by seller and day (a second run, in another
   * worker or by another admin, creates nothing), and the entries are claimed by a conditional
   * UPDATE (never twice). A seller whose claimable entries do not add up to more than zero gets
   * nothing: the negative part waits for later sales. Returns the payouts created.
   */
  async runPayouts(): Promise<PayoutView[]> {
    // A suspended seller's payouts are held until an admin approves the account again.
    const sellers = await queryRows<{ seller_id: string }>(
      `SELECT DISTINCT e.seller_id FROM seller_ledger_entries e JOIN order_items oi ON oi.id = e.order_item_id
        WHERE e.payout_id IS NULL AND ${payableSql()}
          AND NOT EXISTS (SELECT 1 FROM users u WHERE u.id = e.seller_id AND u.status = 'suspended')`,
      {},
    );
    const created: PayoutView[] = [];
    for (const { seller_id: sellerId } of sellers) {
      try {
        const payout = await inTransaction((transaction) => this.createPayout(sellerId, transaction), { name: 'payout' });
        if (payout) created.push(payout);
      } catch (error) {
        if (!(error instanceof NothingToPay)) throw error;
      }
    }
    if (created.length > 0) logger.info('payouts created', { count: created.length });
    return created;
  }

  private async createPayout(sellerId: string, transaction: Transaction): Promise<PayoutView | null> {
    // Shares the seller row with a suspension at the same moment: one of the two goes first.
    const [seller] = await queryRows<{ status: string }>('SELECT status FROM users WHERE id = $sellerId FOR SHARE', { sellerId }, transaction);
    if (!seller || seller.status === 'suspended') return null;
    const [payout] = await queryRows<{ id: string }>(
      `INSERT INTO seller_payouts (seller_id, period_start, period_end, gross_amount, commission_amount, refund_amount, net_amount, currency)
       VALUES ($sellerId, date_trunc('day', now(), 'UTC'), date_trunc('day', now(), 'UTC') + interval '1 day', 0, 0, 0, 0, $currency)
       ON CONFLICT (seller_id, period_start, period_end) DO NOTHING
       RETURNING id`,
      { sellerId, currency: config.commerce.currency },
      transaction,
    );
    if (!payout) return null;
    const [sums] = await queryRows<{ gross: string; commission: string; refund: string; net: string; items: number }>(
      `WITH claimed AS (
         UPDATE seller_ledger_entries e SET payout_id = $payoutId
           FROM order_items oi
          WHERE oi.id = e.order_item_id AND e.seller_id = $sellerId AND e.payout_id IS NULL AND ${payableSql()}
          RETURNING e.type, e.amount, e.order_item_id
       )
       SELECT coalesce(sum(amount) FILTER (WHERE type = 'sale'), 0)::text AS gross,
              coalesce(-sum(amount) FILTER (WHERE type = 'commission'), 0)::text AS commission,
              -- Money the customer got back: refunds, and chargebacks of lost disputes.
              coalesce(-sum(amount) FILTER (WHERE type IN ('refund', 'dispute')), 0)::text AS refund,
              coalesce(sum(amount), 0)::text AS net,
              count(DISTINCT order_item_id) FILTER (WHERE type = 'sale')::int AS items
         FROM claimed`,
      { payoutId: payout.id, sellerId },
      transaction,
    );
    if (toMinor(sums.net) <= 0) throw new NothingToPay();
    const [row] = await queryRows<PayoutRow>(
      `UPDATE seller_payouts SET gross_amount = $gross, commission_amount = $commission, refund_amount = $refund, net_amount = $net,
              item_count = $items, updated_at = now()
        WHERE id = $payoutId RETURNING *`,
      { payoutId: payout.id, gross: sums.gross, commission: sums.commission, refund: sums.refund, net: sums.net, items: sums.items },
      transaction,
    );
    await queryRows(
      `INSERT INTO seller_ledger_entries (seller_id, type, amount, payout_id, occurred_at) VALUES ($sellerId, 'payout', -$net::numeric, $payoutId, now())`,
      { sellerId, net: sums.net, payoutId: payout.id },
      transaction,
    );
    await queryRows(
      `UPDATE order_items SET payout_id = $payoutId, updated_at = now()
        WHERE payout_id IS NULL AND id IN (SELECT order_item_id FROM seller_ledger_entries WHERE payout_id = $payoutId AND type = 'sale')`,
      { payoutId: payout.id },
      transaction,
    );
    const [profile] = await queryRows<{ account: string | null }>(
      `SELECT payout_details->>'stripeAccountId' AS account FROM seller_profiles WHERE user_id = $sellerId`,
      { sellerId },
      transaction,
    );
    if (profile?.account && config.stripe) await recordJob('payouts.transfer', { payoutId: payout.id }, { transaction, jobId: `payout-transfer-${payout.id}` });
    return payoutView(row);
  }

  /**
   * Pays a payout to the seller's Stripe Connect account (a separate transfer, idempotency key
   * `payout-<id>`, so a retried job never pays twice) and marks it paid. A refusal is recorded
   * on the payout for an admin (who may pay by bank and mark it paid); an outage is retried.
   */
  async transferPayout(payoutId: string): Promise<void> {
    const [payout] = await queryRows<PayoutRow & { account: string | null; seller_status: string }>(
      `SELECT p.*, sp.payout_details->>'stripeAccountId' AS account, u.status AS seller_status
         FROM seller_payouts p JOIN users u ON u.id = p.seller_id LEFT JOIN seller_profiles sp ON sp.user_id = p.seller_id WHERE p.id = $payoutId`,
      { payoutId },
    );
    if (!payout || payout.status !== 'pending' || !payout.account) return;
    if (payout.seller_status === 'suspended') {
      // Held: the seller's approval records this transfer again.
      logger.warn('payout held: the seller is suspended', { payoutId, sellerId: payout.seller_id });
      return;
    }
    try {
      const transfer = await getPaymentProvider().transfer({
        amount: toMinor(payout.net_amount),
        currency: payout.currency,
        destination: payout.account,
        payoutId,
        key: `payout-${payoutId}`,
      });
      await this.markPaidIn(payoutId, transfer.id, transfer.id);
    } catch (error) {
      await queryRows(`UPDATE seller_payouts SET failure_reason = $reason, updated_at = now() WHERE id = $payoutId`, {
        payoutId,
        reason: (error as Error).message.slice(0, 1000),
      });
      logger.warn('payout transfer failed', { payoutId, error: (error as Error).message });
      if (error instanceof PaymentProviderError && error.rejected) return;
      throw error;
    }
  }

  /**
   * Records that a payout was paid (a bank transfer an admin made, with its reference); 409 when
   * it is not pending, or while its seller is suspended (PAYOUT_HELD).
   */
  async markPaid(payoutId: string, reference: string | null): Promise<PayoutView> {
    if (!isUuid(payoutId)) throw new NotFoundError('Payout');
    return this.markPaidIn(payoutId, reference, null);
  }

  /**
   * A seller approved again: their pending payouts to a Stripe Connect account are sent (each
   * transfer job is keyed by its payout, so none is paid twice). In the approval's transaction.
   */
  async releaseHeldPayouts(sellerId: string, transaction: Transaction): Promise<void> {
    if (!config.stripe) return;
    const pending = await queryRows<{ id: string }>(
      `SELECT p.id FROM seller_payouts p JOIN seller_profiles sp ON sp.user_id = p.seller_id
        WHERE p.seller_id = $sellerId AND p.status = 'pending' AND sp.payout_details->>'stripeAccountId' IS NOT NULL`,
      { sellerId },
      transaction,
    );
    for (const { id } of pending) await recordJob('payouts.transfer', { payoutId: id }, { transaction });
  }

  /** `transferId` null: a bank payment an admin records, refused while the seller is suspended; else a transfer already made. */
  private async markPaidIn(payoutId: string, reference: string | null, transferId: string | null): Promise<PayoutView> {
    return inTransaction(async (transaction) => {
      if (transferId === null) {
        // The seller row is shared with a suspension at the same moment: one of the two goes first.
        const [seller] = await queryRows<{ status: string }>(
          `SELECT u.status FROM seller_payouts p JOIN users u ON u.id = p.seller_id WHERE p.id = $payoutId AND p.status = 'pending' FOR SHARE OF u`,
          { payoutId },
          transaction,
        );
        if (seller?.status === 'suspended') throw new ConflictError('PAYOUT_HELD', 'The seller is suspended: their payouts are held until the account is approved again');
      }
      const [row] = await moveStatus<PayoutStatus, PayoutRow>(PAYOUT_STATUS, 'paid', {
        where: 't.id = $payoutId',
        bind: { payoutId, reference, transferId },
        set: { paid_at: 'now()', reference: '$reference', transfer_id: 'coalesce($transferId, t.transfer_id)', failure_reason: 'NULL' },
        returning: 't.*',
        transaction,
      });
      if (!row) {
        const [existing] = await queryRows<{ status: string }>('SELECT status FROM seller_payouts WHERE id = $payoutId', { payoutId }, transaction);
        if (!existing) throw new NotFoundError('Payout');
        throw new ConflictError('PAYOUT_ALREADY_PAID', `This payout is ${existing.status}`);
      }
      const [seller] = await queryRows<{ email: string; name: string }>('SELECT email, name FROM users WHERE id = $id', { id: row.seller_id }, transaction);
      if (seller) {
        await sendEmail(
          seller.email,
          'payout-paid',
          { name: seller.name, amount: formatMoney(row.net_amount, row.currency), reference: reference ?? undefined, itemCount: row.item_count },
          transaction,
        );
      }
      logger.info('payout paid', { payoutId, sellerId: row.seller_id, transfer: Boolean(transferId) });
      return payoutView(row);
    }, { name: 'mark payout paid' });
  }

  async listPayouts(query: PayoutQuery): Promise<{ payouts: PayoutView[]; pagination: Pagination }> {
    const { where, bind } = sqlFilter(
      { sellerId: query.sellerId, status: query.status },
      { sellerId: 'seller_id = $sellerId', status: 'status = $status::enum_seller_payouts_status' },
    );
    const [{ total }] = await queryRows<{ total: number }>(`SELECT count(*)::int AS total FROM seller_payouts ${where}`, bind);
    const rows = await queryRows<PayoutRow>(`SELECT * FROM seller_payouts ${where} ORDER BY created_at DESC, id DESC LIMIT $limit OFFSET $offset`, {
      ...bind,
      limit: query.limit,
      offset: offsetOf(query),
    });
    return { payouts: rows.map(payoutView), pagination: paginationOf(query, total) };
  }
}

export const ledgerService = new LedgerService();
