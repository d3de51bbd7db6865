import { queryRows } from '../../platform/db/query';
import type { TransactionStatus, TransactionType } from '../../models';
import { offsetOf, paginationOf, type PageQuery, type Pagination } from '../../platform/utils/pagination';
import type { TransactionView } from '../order';
import { sqlFilter } from '../../platform/db/sql-filter';

/** The admins' list of payment and refund transactions. */

export interface TransactionQuery extends PageQuery {
  status?: TransactionStatus;
  type?: TransactionType;
  /** Only payments beyond the one that paid their order, and their refunds. */
  surplus?: boolean;
  from?: Date;
  to?: Date;
}

export class PaymentTransactionsService {
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
    const transactions = await queryRows<TransactionView>(
      `SELECT id, order_id AS "orderId", type, provider, provider_reference AS "providerReference", amount, currency, status, surplus, created_at AS "createdAt"
         FROM transactions ${where}
        ORDER BY created_at DESC, id DESC LIMIT $limit OFFSET $offset`,
      { ...bind, limit: query.limit, offset: offsetOf(query) },
    );
    return {
      transactions,
      pagination: paginationOf(query, total),
    };
  }
}

export const paymentTransactionsService = new PaymentTransactionsService();
