import type { Transaction } from 'sequelize';
import { config } from '../config';
import { queryRows } from '../db/hot-query';
import { inTransaction } from '../db/transaction';
import { getPaymentProvider, PaymentProviderError } from '../integrations/payments';
import { sendEmail } from '../jobs/email.job';
import { recordJob } from '../jobs/outbox';
import { isUuid, type LedgerEntryType, type PayoutStatus, type SellerPayoutAttributes } from '../models';
import { ConflictError, NotFoundError } from '../utils/errors';
import { logger } from '../utils/logger';
import { formatMoney, fromMinor, toMinor } from '../utils/money';
import { offsetOf, paginationOf, type PageQuery, type Pagination } from '../utils/pagination';
import { lineCommissionSql } from './money-rules';

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

/** A line is payable once delivered and PAYOUT_HOLD_DAYS have passed since. `oi` is the order_items row. */
function payableSql(): string {
  return `(oi.delivered_at IS NOT NULL AND oi.delivered_at <= now() - make_interval(days => ${Number(config.commerce.payoutHoldDays)}))`;
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
   * The sale and its commission, for every line of an order that was just paid, and the order in
   * its payment day's sales (sales_days); once: a second call writes nothing.
   */
  async recordSale(orderId: string, transaction: Transaction): Promise<void> {
    const written = await queryRows<{ id: string }>(
      `INSERT INTO seller_ledger_entries (seller_id, type, amount, order_id, order_item_id, occurred_at)
       SELECT oi.seller_id, t.type,
              CASE t.type WHEN 'sale' THEN oi.line_total ELSE -${lineCommissionSql('oi.line_total', '0', 'oi.commission_rate')} END,
              oi.order_id, oi.id, o.paid_at
         FROM order_items oi
         JOIN orders o ON o.id = oi.order_id
        CROSS JOIN (VALUES ('sale'::enum_seller_ledger_entries_type), ('commission'::enum_seller_ledger_entries_type)) AS t(type)
        WHERE oi.order_id = $orderId AND o.paid_at IS NOT NULL
       ON CONFLICT DO NOTHING
       RETURNING id`,
      { orderId },
      transaction,
    );
    if (written.length === 0) return;
    await queryRows(
      `INSERT INTO sales_days AS d (day, orders, amount_paid, tax_shipping, commission)
       SELECT (o.paid_at AT TIME ZONE 'UTC')::date, 1, o.amount_paid, o.tax_amount + o.shipping_amount,
              (SELECT coalesce(sum(${lineCommissionSql('oi.line_total', 'oi.refunded_amount', 'oi.commission_rate')}), 0) FROM order_items oi WHERE oi.order_id = o.id)
         FROM orders o WHERE o.id = $orderId
       ON CONFLICT (day) DO UPDATE
          SET orders = d.orders + EXCLUDED.orders, amount_paid = d.amount_paid + EXCLUDED.amount_paid,
              tax_shipping = d.tax_shipping + EXCLUDED.tax_shipping, commission = d.commission + EXCLUDED.commission, updated_at = now()`,
      { orderId },
      transaction,
    );
  }

  /**
   * A refund's share of each line (minor units), and the commission given back with it: the
   * commission of a line is always that of what is left of it, so the two entries of each
   * refund telescope to round_half_up((lineTotal − refunded) × rate). The commission given back
   * also leaves the sales of the order's payment day. Call before the lines' refunded_amount is
   * raised by these shares.
   */
  async recordRefund(refundId: string, shares: Map<string, number>, transaction: Transaction): Promise<void> {
    if (shares.size === 0) return;
    const ids = [...shares.keys()];
    const written = await queryRows<{ type: LedgerEntryType; amount: string; order_id: string }>(
      `INSERT INTO seller_ledger_entries (seller_id, type, amount, order_id, order_item_id, refund_id, occurred_at)
       SELECT seller_id, type, amount, order_id, id, $refundId, now() FROM (
         SELECT oi.seller_id, t.type, oi.order_id, oi.id,
                CASE t.type
                  WHEN 'refund' THEN -v.amount
                  ELSE ${lineCommissionSql('oi.line_total', 'oi.refunded_amount', 'oi.commission_rate')}
                       - ${lineCommissionSql('oi.line_total', '(oi.refunded_amount + v.amount)', 'oi.commission_rate')}
                END AS amount
           FROM unnest($ids::uuid[], $amounts::numeric[]) AS v(id, amount)
           JOIN order_items oi ON oi.id = v.id
          CROSS JOIN (VALUES ('refund'::enum_seller_ledger_entries_type), ('commission'::enum_seller_ledger_entries_type)) AS t(type)
       ) entries
       WHERE amount <> 0
       ON CONFLICT DO NOTHING
       RETURNING type, amount, order_id`,
      { refundId, ids, amounts: ids.map((id) => fromMinor(shares.get(id)!)) },
      transaction,
    );
    const givenBack = written.filter((entry) => entry.type === 'commission').reduce((sum, entry) => sum + toMinor(entry.amount), 0);
    if (givenBack === 0) return;
    await queryRows(
      `UPDATE sales_days SET commission = commission - $givenBack, updated_at = now()
        WHERE day = (SELECT (paid_at AT TIME ZONE 'UTC')::date FROM orders WHERE id = $orderId)`,
      { givenBack: fromMinor(givenBack), orderId: written[0].order_id },
      transaction,
    );
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
    const bind: Record<string, unknown> = { sellerId };
    const conditions = ['seller_id = $sellerId'];
    if (query.from) {
      bind.from = query.from;
      conditions.push('occurred_at >= $from');
    }
    if (query.to) {
      bind.to = query.to;
      conditions.push('occurred_at < $to');
    }
    const where = conditions.join(' AND ');
    const [{ total }] = await queryRows<{ total: number }>(`SELECT count(*)::int AS total FROM seller_ledger_entries WHERE ${where}`, bind);
    const rows = await queryRows<{ id: string; type: LedgerEntryType; amount: string; order_id: string | null; order_item_id: string | null; payout_id: string | null; occurred_at: Date }>(
      `SELECT id, type, amount, order_id, order_item_id, payout_id, occurred_at FROM seller_ledger_entries WHERE ${where}
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
    const sellers = await queryRows<{ seller_id: string }>(
      `SELECT DISTINCT e.seller_id FROM seller_ledger_entries e JOIN order_items oi ON oi.id = e.order_item_id
        WHERE e.payout_id IS NULL AND ${payableSql()}`,
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
              coalesce(-sum(amount) FILTER (WHERE type = 'refund'), 0)::text AS refund,
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
    const [payout] = await queryRows<PayoutRow & { account: string | null }>(
      `SELECT p.*, sp.payout_details->>'stripeAccountId' AS account
         FROM seller_payouts p LEFT JOIN seller_profiles sp ON sp.user_id = p.seller_id WHERE p.id = $payoutId`,
      { payoutId },
    );
    if (!payout || payout.status !== 'pending' || !payout.account) return;
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

  /** Records that a payout was paid (a bank transfer an admin made, with its reference); 409 when it is not pending. */
  async markPaid(payoutId: string, reference: string | null): Promise<PayoutView> {
    if (!isUuid(payoutId)) throw new NotFoundError('Payout');
    return this.markPaidIn(payoutId, reference, null);
  }

  private async markPaidIn(payoutId: string, reference: string | null, transferId: string | null): Promise<PayoutView> {
    return inTransaction(async (transaction) => {
      const [row] = await queryRows<PayoutRow>(
        `UPDATE seller_payouts SET status = 'paid', paid_at = now(), reference = $reference, transfer_id = coalesce($transferId, transfer_id),
                failure_reason = NULL, updated_at = now()
          WHERE id = $payoutId AND status = 'pending' RETURNING *`,
        { payoutId, reference, transferId },
        transaction,
      );
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
    const bind: Record<string, unknown> = {};
    const conditions: string[] = [];
    if (query.sellerId) {
      bind.sellerId = query.sellerId;
      conditions.push('seller_id = $sellerId');
    }
    if (query.status) {
      bind.status = query.status;
      conditions.push('status = $status::enum_seller_payouts_status');
    }
    const where = conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '';
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
