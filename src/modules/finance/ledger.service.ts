import type { Transaction } from 'sequelize';
import { queryRows } from '../../platform/db/query';
import { inTransaction } from '../../platform/db/transaction';
import type { LedgerEntryType } from '../../models';
import { fromMinor, toMinor } from '../../platform/utils/money';
import { offsetOf, paginationOf, type PageQuery, type Pagination } from '../../platform/utils/pagination';
import { lineCommissionSql, type RefundablePart, type RefundShare } from './money-rules';
import { sqlFilter } from '../../platform/db/sql-filter';
import { payableSql } from './payable';

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

export interface RangeQuery {
  from?: Date;
  to?: Date;
}

/**
 * The figures of sales_days after count and amount_paid, summed over orders `o`: tax, shipping
 * credited to sellers, discounts by who bears them, and commission as it stands.
 */
export const SALES_DAY_FIGURES = `sum(o.tax_amount),
       coalesce(sum((SELECT sum(s.seller_amount) FROM order_shipping s WHERE s.order_id = o.id)), 0),
       sum(CASE WHEN o.discount_funded_by = 'platform' THEN o.discount_amount ELSE 0 END),
       sum(CASE WHEN o.discount_funded_by = 'seller' THEN o.discount_amount ELSE 0 END),
       coalesce(sum((SELECT sum(${lineCommissionSql('oi.seller_amount', 'oi.refunded_amount', 'oi.commission_rate')}) FROM order_items oi WHERE oi.order_id = o.id)), 0)`;

/**
 * Refund transactions that count as refunds in the statistics: succeeded, and not the refund of
 * a surplus payment (which was never a sale). Over transactions `t`, dated by t.created_at.
 */
export const REFUND_MADE = `t.type = 'refund' AND t.status = 'succeeded' AND NOT t.surplus`;

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
              CASE t.type WHEN 'sale' THEN oi.seller_amount ELSE -${lineCommissionSql('oi.seller_amount', '0', 'oi.commission_rate')} END,
              oi.order_id, oi.id, o.paid_at
         FROM order_items oi
         JOIN orders o ON o.id = oi.order_id
        CROSS JOIN (VALUES ('sale'::enum_seller_ledger_entries_type), ('commission'::enum_seller_ledger_entries_type)) AS t(type)
        WHERE oi.order_id = ANY($orderIds::uuid[]) AND o.paid_at IS NOT NULL AND oi.fulfillment_status <> 'cancelled'
       UNION ALL
       -- Each seller's shipping, without commission, on the first of that seller's lines (a parcel is payable with its lines).
       SELECT s.seller_id, 'shipping', s.seller_amount, s.order_id, anchor.id, o.paid_at
         FROM order_shipping s
         JOIN orders o ON o.id = s.order_id
        CROSS JOIN LATERAL (SELECT oi.id FROM order_items oi
                             WHERE oi.order_id = s.order_id AND oi.seller_id = s.seller_id AND oi.fulfillment_status <> 'cancelled'
                             ORDER BY oi.created_at, oi.id LIMIT 1) anchor
        WHERE s.order_id = ANY($orderIds::uuid[]) AND o.paid_at IS NOT NULL AND s.seller_amount > 0 AND s.refunded_at IS NULL
       ON CONFLICT DO NOTHING`,
      { orderIds },
      transaction,
    );
    await queryRows(
      `INSERT INTO sales_days AS d (day, orders, amount_paid, tax, shipping, platform_discount, seller_discount, commission)
       SELECT (o.paid_at AT TIME ZONE 'UTC')::date, count(*), sum(o.amount_paid), ${SALES_DAY_FIGURES}
         FROM orders o WHERE o.id = ANY($orderIds::uuid[]) AND o.paid_at IS NOT NULL
        GROUP BY 1
       ON CONFLICT (day) DO UPDATE
          SET orders = d.orders + EXCLUDED.orders, amount_paid = d.amount_paid + EXCLUDED.amount_paid, tax = d.tax + EXCLUDED.tax,
              shipping = d.shipping + EXCLUDED.shipping, platform_discount = d.platform_discount + EXCLUDED.platform_discount,
              seller_discount = d.seller_discount + EXCLUDED.seller_discount, commission = d.commission + EXCLUDED.commission, updated_at = now()`,
      { orderIds },
      transaction,
    );
  }

  /**
   * A refund's ledger entries: for each line whose credit it takes back, a refund entry and the
   * commission given back (the commission of a line is always that of what is left of it, so the
   * two entries of each refund telescope to round_half_up((sellerAmount − refunded) × rate)); for
   * each parcel whose credit it takes back, a negative shipping entry beside its credit. Entries
   * are written for what the ledger holds a sale of (a line cancelled before its order was paid
   * holds none); the commission given back leaves the sales of the order's payment day in any
   * case, and the refund's amount joins the refunds of the day it was made (its transaction's).
   * Call once per refund, after its refund transaction is written (refunds.transaction_id) and
   * before the refunded figures are raised by these shares.
   */
  async recordRefund(refundId: string, orderId: string, shares: Map<string, RefundShare>, parts: RefundablePart[], transaction: Transaction): Promise<void> {
    // Today's row first, then the payment day's: every refund locks the rows it adds to in that order.
    const counted = await queryRows<{ day: string }>(
      `INSERT INTO sales_days AS d (day, refunds)
       SELECT (t.created_at AT TIME ZONE 'UTC')::date, t.amount
         FROM refunds r JOIN transactions t ON t.id = r.transaction_id
        WHERE r.id = $refundId AND ${REFUND_MADE}
       ON CONFLICT (day) DO UPDATE SET refunds = d.refunds + EXCLUDED.refunds, updated_at = now()
       RETURNING day`,
      { refundId },
      transaction,
    );
    if (counted.length !== 1) throw new Error(`Refund ${refundId} has no succeeded refund transaction to count in sales_days`);
    const lines = parts.filter((part) => part.kind === 'line' && (shares.get(part.id)?.credited ?? 0) > 0);
    const parcels = parts.filter((part) => part.kind === 'shipping' && (shares.get(part.id)?.credited ?? 0) > 0);
    if (parcels.length > 0) {
      await queryRows(
        `INSERT INTO seller_ledger_entries (seller_id, type, amount, order_id, order_item_id, refund_id, occurred_at)
         SELECT e.seller_id, 'shipping', -v.amount, e.order_id, e.order_item_id, $refundId, now()
           FROM unnest($sellerIds::uuid[], $amounts::numeric[]) AS v(seller_id, amount)
           JOIN seller_ledger_entries e ON e.order_id = $orderId AND e.seller_id = v.seller_id AND e.type = 'shipping' AND e.refund_id IS NULL AND e.amount > 0
         ON CONFLICT DO NOTHING`,
        { refundId, orderId, sellerIds: parcels.map((part) => part.sellerId), amounts: parcels.map((part) => fromMinor(shares.get(part.id)!.credited)) },
        transaction,
      );
    }
    if (lines.length === 0) return;
    const ids = lines.map((part) => part.id);
    const [{ given_back: givenBack }] = await queryRows<{ given_back: string }>(
      `WITH lines AS (
         SELECT oi.id, oi.seller_id, oi.order_id, v.amount,
                ${lineCommissionSql('oi.seller_amount', 'oi.refunded_amount', 'oi.commission_rate')}
                  - ${lineCommissionSql('oi.seller_amount', '(oi.refunded_amount + v.amount)', 'oi.commission_rate')} AS given_back,
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
      { refundId, ids, amounts: ids.map((id) => fromMinor(shares.get(id)!.credited)) },
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
   * Builds sales_days again from the orders and refund transactions (an operator's repair after
   * editing orders by hand, and the tests that move payments in time). Locks the table meanwhile.
   */
  async rebuildSalesDays(): Promise<void> {
    await inTransaction(async (transaction) => {
      await queryRows('LOCK TABLE sales_days IN EXCLUSIVE MODE', {}, transaction);
      await queryRows('DELETE FROM sales_days', {}, transaction);
      await queryRows(
        `INSERT INTO sales_days (day, orders, amount_paid, tax, shipping, platform_discount, seller_discount, commission)
         SELECT (o.paid_at AT TIME ZONE 'UTC')::date, count(*), sum(o.amount_paid), ${SALES_DAY_FIGURES}
           FROM orders o
          WHERE o.paid_at IS NOT NULL AND o.payment_status IN ('paid', 'partially_refunded', 'refunded')
          GROUP BY 1`,
        {},
        transaction,
      );
      await queryRows(
        `INSERT INTO sales_days AS d (day, refunds)
         SELECT (t.created_at AT TIME ZONE 'UTC')::date, sum(t.amount) FROM transactions t WHERE ${REFUND_MADE} GROUP BY 1
         ON CONFLICT (day) DO UPDATE SET refunds = EXCLUDED.refunds`,
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
    const entries = await queryRows<LedgerEntryView>(
      `SELECT id, type, amount, order_id AS "orderId", order_item_id AS "orderItemId", payout_id AS "payoutId", occurred_at AS "createdAt"
         FROM seller_ledger_entries ${where}
        ORDER BY occurred_at DESC, created_at DESC, id DESC LIMIT $limit OFFSET $offset`,
      { ...bind, limit: query.limit, offset: offsetOf(query) },
    );
    return {
      entries,
      balance: await this.balance(sellerId),
      pagination: paginationOf(query, total),
    };
  }
}

export const ledgerService = new LedgerService();
