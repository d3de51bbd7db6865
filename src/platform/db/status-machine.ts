import type { Transaction } from 'sequelize';
import { queryRows } from './query';
import type { DisputeStatus, FulfillmentStatus, PaymentStatus, PayoutStatus, RefundStatus, TransactionStatus } from '../../models';

/**
 * The status columns money and stock depend on, beside the order's own (order-state.ts): each has
 * one table of the moves it allows, and every write of it goes through `moveStatus`, one
 * conditional UPDATE (`WHERE status = ANY(allowed sources)`), so of two writers at once only the
 * one whose move is still allowed changes the row, and what follows a move happens once.
 */
export interface StatusMachine<S extends string> {
  /** What the status is of, for messages. */
  name: string;
  table: string;
  column: string;
  /** The PostgreSQL type of the column (an enum, or varchar). */
  type: string;
  transitions: Readonly<Record<S, readonly S[]>>;
}

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

/** order_items.fulfillment_status: a line ships once, and a cancelled or refunded line is final. */
export const FULFILLMENT_STATUS: StatusMachine<FulfillmentStatus> = {
  name: 'fulfillment status',
  table: 'order_items',
  column: 'fulfillment_status',
  type: 'enum_order_items_fulfillment_status',
  transitions: {
    unfulfilled: ['shipped', 'cancelled', 'refunded'],
    shipped: ['delivered', 'refunded'],
    delivered: ['refunded'],
    cancelled: [],
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

/** seller_payouts.status: a payout is paid (or cancelled) once. */
export const PAYOUT_STATUS: StatusMachine<PayoutStatus> = {
  name: 'payout status',
  table: 'seller_payouts',
  column: 'status',
  type: 'enum_seller_payouts_status',
  transitions: {
    pending: ['paid', 'cancelled'],
    paid: [],
    cancelled: [],
  },
};

/** disputes.status: open until the provider closes it, won or lost. */
export const DISPUTE_STATUS: StatusMachine<DisputeStatus> = {
  name: 'dispute status',
  table: 'disputes',
  column: 'status',
  type: 'varchar',
  transitions: {
    open: ['won', 'lost'],
    won: [],
    lost: [],
  },
};

export function canMoveStatus<S extends string>(machine: StatusMachine<S>, from: S, to: S): boolean {
  return machine.transitions[from].includes(to);
}

/** The states from which `to` may be reached, narrowed to `only` when given. */
export function statusSources<S extends string>(machine: StatusMachine<S>, to: S, only?: readonly S[]): S[] {
  return (Object.keys(machine.transitions) as S[]).filter((from) => machine.transitions[from].includes(to) && (!only || only.includes(from)));
}

export interface StatusMoveOptions<S extends string> {
  /** An SQL condition on the table (alias `t`) choosing the rows, with `$name` binds from `bind`. */
  where: string;
  bind: Record<string, unknown>;
  /** Narrows the table's sources. */
  from?: readonly S[];
  /** Other columns set by the same UPDATE: column name → SQL expression (binds from `bind`). */
  set?: Record<string, string>;
  /** What the UPDATE returns of each row moved (its columns, as `RETURNING` takes them); default `t.id`. */
  returning?: string;
  transaction?: Transaction;
}

/**
 * Moves the chosen rows that are in a state allowed to reach `to`, in one conditional UPDATE;
 * rows in any other state are left as they are. Returns the rows moved (their ids by default).
 */
export async function moveStatus<S extends string, R extends object = { id: string }>(machine: StatusMachine<S>, to: S, options: StatusMoveOptions<S>): Promise<R[]> {
  const sources = statusSources(machine, to, options.from);
  if (sources.length === 0) return [];
  const sets = [`${machine.column} = $statusTo::${machine.type}`, 'updated_at = now()'];
  for (const [column, expression] of Object.entries(options.set ?? {})) {
    if (!/^[a-z_]+$/.test(column)) throw new Error(`Not a column name: ${column}`);
    sets.push(`${column} = ${expression}`);
  }
  return queryRows<R>(
    `UPDATE ${machine.table} t SET ${sets.join(', ')}
      WHERE (${options.where}) AND t.${machine.column} = ANY($statusFrom::${machine.type}[])
      RETURNING ${options.returning ?? 't.id'}`,
    { ...options.bind, statusTo: to, statusFrom: sources },
    options.transaction,
  );
}
