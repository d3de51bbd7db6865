import type { Transaction } from 'sequelize';
import { config } from '../../platform/config';
import { queryRows } from '../../platform/db/query';
import { inTransaction } from '../../platform/db/transaction';
import { getPaymentProvider, PaymentProviderError } from '../../platform/payments';
import { recordEvent } from '../webhooks';
import { sendEmail } from '../../platform/jobs/email.job';
import { recordJob } from '../../platform/jobs/outbox';
import { isUuid, type PayoutStatus, type SellerPayoutAttributes } from '../../models';
import { ConflictError, NotFoundError } from '../../platform/utils/errors';
import { logger } from '../../platform/utils/logger';
import { formatMoney, toMinor } from '../../platform/utils/money';
import { offsetOf, paginationOf, type PageQuery, type Pagination } from '../../platform/utils/pagination';
import { moveStatus } from '../../platform/db/status-machine';
import { PAYOUT_STATUS } from './finance-states';
import { sqlFilter } from '../../platform/db/sql-filter';
import { payableSql } from './payable';

/**
 * Seller payouts: once a day each seller's available entries are claimed by one payout (one per
 * seller and UTC day), paid by a Connect transfer that a job makes (idempotency key
 * `payout-<id>`) or marked paid by an admin; a suspended seller's payouts are held until approval.
 */

/** A payout as the API shows it: every column but updatedAt. */
export type PayoutView = Omit<SellerPayoutAttributes, 'updatedAt'>;

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

export class PayoutService {
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

  /**
   * Why a run created no payout, in words an admin can act on, and when the first line now held
   * becomes payable (delivered lines wait PAYOUT_HOLD_DAYS; lines not delivered have no date yet).
   */
  async nothingToPayReason(): Promise<{ reason: string; nextPayableAt: Date | null }> {
    const holdDays = Number(config.commerce.payoutHoldDays);
    const [counts] = await queryRows<{ waiting: number; undelivered: number; holding: number; disputed: number; suspended: number; payable: number; next_payable_at: Date | null }>(
      `SELECT count(DISTINCT oi.id)::int AS waiting,
              count(DISTINCT oi.id) FILTER (WHERE oi.delivered_at IS NULL)::int AS undelivered,
              count(DISTINCT oi.id) FILTER (WHERE oi.delivered_at > now() - make_interval(days => $holdDays))::int AS holding,
              count(DISTINCT oi.id) FILTER (WHERE EXISTS (SELECT 1 FROM disputes d WHERE d.order_id = oi.order_id AND d.status = 'open'))::int AS disputed,
              count(DISTINCT oi.id) FILTER (WHERE u.status = 'suspended')::int AS suspended,
              count(DISTINCT oi.id) FILTER (WHERE ${payableSql()} AND u.status <> 'suspended')::int AS payable,
              min(oi.delivered_at + make_interval(days => $holdDays)) FILTER (WHERE oi.delivered_at > now() - make_interval(days => $holdDays)) AS next_payable_at
         FROM seller_ledger_entries e
         JOIN order_items oi ON oi.id = e.order_item_id
         JOIN users u ON u.id = e.seller_id
        WHERE e.payout_id IS NULL`,
      { holdDays },
    );
    if (counts.waiting === 0) return { reason: 'Nothing to pay out: no sale is waiting for a payout', nextPayableAt: null };
    const parts: string[] = [];
    if (counts.undelivered > 0) parts.push(`${counts.undelivered} line(s) not delivered yet`);
    if (counts.holding > 0) parts.push(`${counts.holding} line(s) delivered less than ${holdDays} day(s) ago (PAYOUT_HOLD_DAYS)`);
    if (counts.disputed > 0) parts.push(`${counts.disputed} line(s) of orders with an open dispute`);
    if (counts.suspended > 0) parts.push(`${counts.suspended} line(s) of suspended sellers`);
    if (counts.payable > 0) parts.push(`${counts.payable} payable line(s) whose sellers were paid out today already (one payout per seller and UTC day) or whose entries net to nothing`);
    const next = counts.next_payable_at ? `; the next becomes payable at ${new Date(counts.next_payable_at).toISOString()}` : '';
    return { reason: `Nothing to pay out: ${parts.join(', ')}${next}`, nextPayableAt: counts.next_payable_at };
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
       SELECT coalesce(sum(amount) FILTER (WHERE type = 'sale' OR (type = 'shipping' AND amount > 0)), 0)::text AS gross,
              coalesce(-sum(amount) FILTER (WHERE type = 'commission'), 0)::text AS commission,
              -- Money the customer got back: refunds (shipping taken back too), and chargebacks of lost disputes.
              coalesce(-sum(amount) FILTER (WHERE type IN ('refund', 'dispute') OR (type = 'shipping' AND amount < 0)), 0)::text AS refund,
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
      await recordEvent('payout.paid', payoutView(row), row.seller_id, transaction);
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

export const payoutService = new PayoutService();
