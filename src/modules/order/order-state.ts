import type { Transaction } from 'sequelize';
import { queryRows } from '../../platform/db/query';
import type { HistoryActorRole, OrderStatus, WebhookEventType } from '../../models';
import type { Caller } from '../accounts';
import { recordOrderEvent } from '../webhooks';
import { ConflictError, NotFoundError, type AppError } from '../../platform/utils/errors';

/**
 * The order state machine: every move of an order, by any route or job, goes through moveOrder.
 * A move is one conditional UPDATE (`WHERE status = ANY(allowed sources)`), so of two concurrent
 * moves from the same state exactly one happens, and whatever follows it (a restock, a mail) runs
 * once. Each move writes a history row with its actor, and the webhook event of the move, in the
 * same transaction.
 */
export const ORDER_TRANSITIONS: Readonly<Record<OrderStatus, readonly OrderStatus[]>> = {
  pending: ['confirmed', 'cancelled'],
  // An order whose lines all ship while it is confirmed goes straight to shipped.
  confirmed: ['processing', 'shipped', 'cancelled', 'refunded'],
  processing: ['shipped', 'refunded'],
  shipped: ['delivered', 'refunded'],
  delivered: ['refunded'],
  cancelled: [],
  refunded: [],
};

/** The states from which an order may move to `to`. */
export function sourcesOf(to: OrderStatus): OrderStatus[] {
  return (Object.keys(ORDER_TRANSITIONS) as OrderStatus[]).filter((from) => ORDER_TRANSITIONS[from].includes(to));
}

export function canMove(from: OrderStatus, to: OrderStatus): boolean {
  return ORDER_TRANSITIONS[from].includes(to);
}

export interface Actor {
  /** Null for the system (expiry job, webhooks). */
  id: string | null;
  role: HistoryActorRole;
}

export const SYSTEM_ACTOR: Actor = { id: null, role: 'system' };

/** A caller as the history records them. */
export function actorOf(caller: Caller): Actor {
  return { id: caller.id, role: caller.role };
}

/** The timestamp column a state sets when an order enters it. */
const ENTERED_AT: Partial<Record<OrderStatus, string>> = {
  shipped: 'shipped_at',
  delivered: 'delivered_at',
  cancelled: 'cancelled_at',
  refunded: 'refunded_at',
};

export interface MoveOptions {
  transaction: Transaction;
  actor: Actor;
  note?: string | null;
  /** Narrows the table's sources (a customer may cancel only what is pending or confirmed: the same here). */
  from?: readonly OrderStatus[];
  /** Other columns written by the same UPDATE, by column name (names come from code, never from input). */
  set?: Record<string, string | number | boolean | Date | null>;
  /** The error when the order is not in a state it may move from; 409 INVALID_STATUS_TRANSITION by default. */
  refusal?: (current: OrderStatus) => AppError;
}

/** The webhook event a move records (the order as it stands at the move): confirmed is a payment. */
const ORDER_EVENTS: Partial<Record<OrderStatus, WebhookEventType>> = {
  confirmed: 'order.paid',
  cancelled: 'order.cancelled',
  shipped: 'order.shipped',
  delivered: 'order.delivered',
  refunded: 'order.refunded',
};

export interface Move {
  orderId: string;
  from: OrderStatus;
  to: OrderStatus;
}

function invalidTransition(from: OrderStatus, to: OrderStatus): AppError {
  return new ConflictError('INVALID_STATUS_TRANSITION', `An order cannot move from ${from} to ${to}`);
}

/**
 * Moves an order to `to` if it is in one of the allowed source states, and records the move.
 * Throws 404 ORDER_NOT_FOUND, or the refusal (409) when the move is not allowed from the state
 * the order is in. What a state entails beyond its columns (restock, mails) is up to the caller,
 * in the same transaction, after this returns: it then runs exactly once per move.
 */
export async function moveOrder(orderId: string, to: OrderStatus, options: MoveOptions): Promise<Move> {
  const { transaction } = options;
  const allowed = sourcesOf(to).filter((from) => !options.from || options.from.includes(from));
  const sets: string[] = [`status = $to::enum_orders_status`, 'updated_at = now()'];
  const bind: Record<string, unknown> = { id: orderId, to, allowed };
  const enteredAt = ENTERED_AT[to];
  if (enteredAt) sets.push(`${enteredAt} = now()`);
  for (const [column, value] of Object.entries(options.set ?? {})) {
    if (!/^[a-z_]+$/.test(column)) throw new Error(`Not a column name: ${column}`);
    bind[`set_${column}`] = value;
    sets.push(`${column} = $set_${column}`);
  }
  // The row lock of the sub-select is taken first, so `previous` is the state this move leaves.
  const rows = await queryRows<{ from_status: OrderStatus }>(
    `UPDATE orders o SET ${sets.join(', ')}
       FROM (SELECT id, status AS from_status FROM orders WHERE id = $id FOR UPDATE) previous
      WHERE o.id = previous.id AND previous.from_status = ANY($allowed::enum_orders_status[])
      RETURNING previous.from_status`,
    bind,
    transaction,
  );
  if (rows.length === 0) {
    const [current] = await queryRows<{ status: OrderStatus }>('SELECT status FROM orders WHERE id = $id', { id: orderId }, transaction);
    if (!current) throw new NotFoundError('Order');
    throw (options.refusal ?? ((from: OrderStatus) => invalidTransition(from, to)))(current.status);
  }
  const from = rows[0].from_status;
  await recordHistory(orderId, from, to, options);
  const event = ORDER_EVENTS[to];
  if (event) await recordOrderEvent(event, orderId, transaction);
  return { orderId, from, to };
}

/** Appends a history row; `from` is null for the order's first row (placed). */
async function recordHistory(
  orderId: string,
  from: OrderStatus | null,
  to: OrderStatus,
  options: Pick<MoveOptions, 'transaction' | 'actor' | 'note'>,
): Promise<void> {
  await queryRows(
    `INSERT INTO order_status_history (order_id, from_status, to_status, note, actor_id, actor_role)
     VALUES ($orderId, $from::enum_order_status_history_from_status, $to::enum_order_status_history_to_status, $note, $actorId,
             $actorRole::enum_order_status_history_actor_role)`,
    { orderId, from, to, note: options.note ?? null, actorId: options.actor.id, actorRole: options.actor.role },
    options.transaction,
  );
}
