import type { PaymentStatus, RefundStatus, TransactionStatus } from '../../models';
import type { StatusMachine } from '../../platform/db/status-machine';

/** orders.payment_status: paid once; refunds move it on, never back. */
export const PAYMENT_STATUS: StatusMachine<PaymentStatus> = {
  name: 'payment status',
  table: 'orders',
  column: 'payment_status',
  type: 'enum_orders_payment_status',
  transitions: {
    unpaid: ['paid'],
    paid: ['partially_refunded', 'refunded'],
    partially_refunded: ['partially_refunded', 'refunded'],
    refunded: [],
  },
};

/**
 * transactions.status of a card payment, as the provider reports its intent: a failed attempt
 * may still succeed (the customer tries another card), a canceled or succeeded one is final.
 */
export const TRANSACTION_STATUS: StatusMachine<TransactionStatus> = {
  name: 'transaction status',
  table: 'transactions',
  column: 'status',
  type: 'enum_transactions_status',
  transitions: {
    pending: ['succeeded', 'failed', 'canceled'],
    failed: ['succeeded', 'failed', 'canceled'],
    succeeded: [],
    canceled: [],
  },
};

/** refunds.status: a reserved refund is made or refused, once. */
export const REFUND_STATUS: StatusMachine<RefundStatus> = {
  name: 'refund status',
  table: 'refunds',
  column: 'status',
  type: 'enum_refunds_status',
  transitions: {
    pending: ['succeeded', 'failed'],
    succeeded: [],
    failed: [],
  },
};
