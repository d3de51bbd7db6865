import type { Transaction } from 'sequelize';
import { config } from '../../platform/config';
import { queryRows } from '../../platform/db/query';
import { moveStatus, type StatusMachine } from '../../platform/db/status-machine';
import { inTransaction } from '../../platform/db/transaction';
import { sendEmail } from '../../platform/jobs/email.job';
import { isUuid, type ReturnStatus } from '../../models';
import { ConflictError, NotFoundError, ValidationError } from '../../platform/utils/errors';
import { formatMoney } from '../../platform/utils/money';
import { offsetOf, paginationOf, type PageQuery, type Pagination } from '../../platform/utils/pagination';
import type { ReturnedUnits } from '../finance';
import { restockVariants } from '../catalog';
import type { Caller } from '../accounts';
import { recordReturnEvent } from '../webhooks';
import { actorOf, type Actor } from './order-state';
import { payments } from './payments-port';

/**
 * Returns (RMA): a customer asks to send back units of delivered lines of one seller; that seller
 * or an admin approves or rejects, then receives the parcel, which refunds what was paid for the
 * units through the payment provider (an outbox job, so a crash after "received" loses nothing).
 * A line's units in returns are counted on the line (`returned_quantity`) by one conditional
 * UPDATE under a CHECK, so returns asked at once never return more than was bought.
 */

export const RETURN_STATUS: StatusMachine<ReturnStatus> = {
  name: 'return status',
  table: 'returns',
  column: 'status',
  type: 'enum_returns_status',
  transitions: {
    requested: ['approved', 'rejected'],
    approved: ['received'],
    rejected: [],
    received: ['refunded'],
    refunded: [],
  },
};

export interface ReturnInput {
  items: Array<{ orderItemId: string; quantity: number; reason: string }>;
  note?: string | null;
}

export interface ReturnView {
  id: string;
  orderId: string;
  sellerId: string;
  status: ReturnStatus;
  note: string | null;
  items: Array<{ orderItemId: string; quantity: number; reason: string }>;
  refundAmount: string;
  restock: boolean | null;
  createdAt: Date;
  history: Array<{ status: ReturnStatus; fromStatus: ReturnStatus | null; note: string | null; actor: Actor; createdAt: Date }>;
}

export interface ReturnListQuery extends PageQuery {
  status?: ReturnStatus;
}

interface ReturnRow {
  id: string;
  order_id: string;
  user_id: string;
  seller_id: string;
  status: ReturnStatus;
  note: string | null;
  restock: boolean | null;
  refund_amount: string;
  created_at: Date;
}

const RETURN_COLUMNS = 'r.id, r.order_id, r.user_id, r.seller_id, r.status, r.note, r.restock, r.refund_amount, r.created_at';

function windowClosed(): ConflictError {
  return new ConflictError('RETURN_WINDOW_CLOSED', `Returns are accepted within ${config.commerce.returnWindowDays} day(s) of delivery`);
}

/** Writes a return's history row (its first, with no source, or a move). */
async function recordMove(returnId: string, from: ReturnStatus | null, to: ReturnStatus, actor: Actor, note: string | null, transaction: Transaction): Promise<void> {
  await queryRows(
    // clock_timestamp(): moves made in one transaction (received, then refunded) keep their order.
    `INSERT INTO return_status_history (return_id, from_status, to_status, note, actor_id, actor_role, created_at)
     VALUES ($returnId, $from::enum_return_status_history_from_status, $to::enum_return_status_history_to_status, $note, $actorId,
             $actorRole::enum_return_status_history_actor_role, clock_timestamp())`,
    { returnId, from, to, note, actorId: actor.id, actorRole: actor.role },
    transaction,
  );
}

/** The customer's mail about a return, recorded with the move it tells of. */
async function mailCustomer(returnId: string, status: 'approved' | 'rejected' | 'refunded', note: string | null, transaction: Transaction): Promise<void> {
  const [row] = await queryRows<{ email: string; name: string; order_number: string; order_id: string; currency: string; refund_amount: string; items: string }>(
    `SELECT u.email, u.name, o.order_number, o.id AS order_id, o.currency, r.refund_amount::text,
            (SELECT string_agg(oi.product_name || ' x ' || ri.quantity, ', ' ORDER BY oi.product_name)
               FROM return_items ri JOIN order_items oi ON oi.id = ri.order_item_id WHERE ri.return_id = r.id) AS items
       FROM returns r JOIN orders o ON o.id = r.order_id JOIN users u ON u.id = r.user_id WHERE r.id = $returnId`,
    { returnId },
    transaction,
  );
  if (!row) return;
  await sendEmail(
    row.email,
    'return-update',
    {
      name: row.name,
      orderNumber: row.order_number,
      status,
      items: row.items,
      note: note ?? undefined,
      amount: status === 'refunded' ? formatMoney(row.refund_amount, row.currency) : undefined,
      orderUrl: `${config.frontendUrl}/orders/${row.order_id}`,
    },
    transaction,
  );
}

/**
 * The units a return gives back, per line, with the units of the line given back by returns
 * received before it (in the order they were received): what the telescoped refund of its units
 * starts from, the same when the refund is reserved and when it completes.
 */
export async function returnedUnits(returnId: string, transaction: Transaction): Promise<ReturnedUnits[]> {
  const rows = await queryRows<{ id: string; quantity: number; of: number; before: number }>(
    `SELECT ri.order_item_id AS id, ri.quantity, oi.quantity AS of,
            coalesce((SELECT sum(ri2.quantity) FROM return_items ri2 JOIN returns r2 ON r2.id = ri2.return_id
                       WHERE ri2.order_item_id = ri.order_item_id AND r2.id <> r.id AND r2.status IN ('received', 'refunded')
                         AND (r2.received_at, r2.id) < (r.received_at, r.id)), 0)::int AS before
       FROM return_items ri JOIN returns r ON r.id = ri.return_id JOIN order_items oi ON oi.id = ri.order_item_id
      WHERE r.id = $returnId
      ORDER BY ri.order_item_id`,
    { returnId },
    transaction,
  );
  return rows;
}

/** Moves a received return to refunded once its refund completed (in that refund's transaction), and mails the customer. */
export async function returnRefunded(returnId: string, actor: Actor, transaction: Transaction): Promise<void> {
  const moved = await moveStatus<ReturnStatus, { id: string; seller_id: string }>(RETURN_STATUS, 'refunded', {
    where: 't.id = $returnId',
    bind: { returnId },
    returning: 't.id, t.seller_id',
    transaction,
  });
  if (moved.length === 0) return;
  await recordMove(returnId, 'received', 'refunded', actor, null, transaction);
  await recordReturnEvent('return.refunded', returnId, moved[0].seller_id, transaction);
  await mailCustomer(returnId, 'refunded', null, transaction);
}

export class ReturnService {
  /**
   * A customer's return of units of delivered lines of one seller, within RETURN_WINDOW_DAYS of
   * delivery. The units are counted on each line by one conditional UPDATE (never more than were
   * bought, whatever returns race: 409 RETURN_EXCEEDS_QUANTITY).
   */
  async request(caller: Caller, orderId: string, input: ReturnInput): Promise<ReturnView> {
    if (!isUuid(orderId)) throw new NotFoundError('Order');
    const itemIds = input.items.map((item) => item.orderItemId);
    if (new Set(itemIds).size !== itemIds.length) throw new ValidationError([{ field: 'items', message: 'name each line once' }]);
    const returnId = await inTransaction(async (transaction) => {
      const [order] = await queryRows<{ id: string }>('SELECT id FROM orders WHERE id = $orderId AND user_id = $userId', { orderId, userId: caller.id }, transaction);
      if (!order) throw new NotFoundError('Order');
      const lines = await queryRows<{ id: string; seller_id: string; fulfillment_status: string; delivered_at: Date | null; quantity: number }>(
        'SELECT id, seller_id, fulfillment_status, delivered_at, quantity FROM order_items WHERE order_id = $orderId AND id = ANY($itemIds::uuid[])',
        { orderId, itemIds },
        transaction,
      );
      if (lines.length !== itemIds.length) throw new NotFoundError('OrderItem');
      const notDelivered = lines.filter((line) => line.fulfillment_status !== 'delivered' || !line.delivered_at);
      if (notDelivered.length > 0) {
        throw new ConflictError('ORDER_ITEM_NOT_RETURNABLE', 'Only delivered lines can be returned', notDelivered.map((line) => ({ field: line.id, message: 'not delivered' })));
      }
      const windowMs = config.commerce.returnWindowDays * 86_400_000;
      if (lines.some((line) => line.delivered_at!.getTime() + windowMs <= Date.now())) throw windowClosed();
      const sellers = new Set(lines.map((line) => line.seller_id));
      if (sellers.size > 1) throw new ValidationError([{ field: 'items', message: 'a return holds lines of one seller: ask one return per seller' }]);
      const counted = await queryRows<{ id: string }>(
        `UPDATE order_items oi SET returned_quantity = oi.returned_quantity + v.quantity, updated_at = now()
           FROM unnest($ids::uuid[], $quantities::int[]) AS v(id, quantity)
          WHERE oi.id = v.id AND oi.returned_quantity + v.quantity <= oi.quantity
          RETURNING oi.id`,
        { ids: itemIds, quantities: input.items.map((item) => item.quantity) },
        transaction,
      );
      if (counted.length !== itemIds.length) {
        throw new ConflictError('RETURN_EXCEEDS_QUANTITY', 'More units than were bought (and not returned already) of a line', itemIds
          .filter((id) => !counted.some((row) => row.id === id))
          .map((id) => ({ field: id, message: 'exceeds the units left to return' })));
      }
      const [created] = await queryRows<{ id: string }>(
        `INSERT INTO returns (order_id, user_id, seller_id, note) VALUES ($orderId, $userId, $sellerId, $note) RETURNING id`,
        { orderId, userId: caller.id, sellerId: lines[0].seller_id, note: input.note ?? null },
        transaction,
      );
      await queryRows(
        `INSERT INTO return_items (return_id, order_item_id, quantity, reason)
         SELECT $returnId, v.id, v.quantity, v.reason FROM unnest($ids::uuid[], $quantities::int[], $reasons::text[]) AS v(id, quantity, reason)`,
        { returnId: created.id, ids: itemIds, quantities: input.items.map((item) => item.quantity), reasons: input.items.map((item) => item.reason) },
        transaction,
      );
      await recordMove(created.id, null, 'requested', actorOf(caller), input.note ?? null, transaction);
      await recordReturnEvent('return.requested', created.id, lines[0].seller_id, transaction);
      return created.id;
    }, { name: 'request return' });
    return this.view(returnId);
  }

  /** The seller of its lines, or an admin, approves a requested return; the customer is mailed. */
  async approve(caller: Caller, returnId: string, note: string | null): Promise<ReturnView> {
    await this.decide(caller, returnId, 'approved', note);
    return this.view(returnId);
  }

  /** Rejects a requested return: its units can be asked again; the customer is mailed. */
  async reject(caller: Caller, returnId: string, note: string | null): Promise<ReturnView> {
    await this.decide(caller, returnId, 'rejected', note);
    return this.view(returnId);
  }

  private async decide(caller: Caller, returnId: string, to: 'approved' | 'rejected', note: string | null): Promise<void> {
    await inTransaction(async (transaction) => {
      await this.visible(caller, returnId, transaction);
      const moved = await moveStatus(RETURN_STATUS, to, { where: 't.id = $returnId', bind: { returnId }, transaction });
      if (moved.length === 0) throw await this.refusedMove(returnId, to, transaction);
      if (to === 'rejected') {
        await queryRows(
          `UPDATE order_items oi SET returned_quantity = oi.returned_quantity - ri.quantity, updated_at = now()
             FROM return_items ri WHERE ri.return_id = $returnId AND oi.id = ri.order_item_id`,
          { returnId },
          transaction,
        );
      }
      await recordMove(returnId, 'requested', to, actorOf(caller), note, transaction);
      await mailCustomer(returnId, to, note, transaction);
    }, { name: `return ${to}` });
  }

  /**
   * The parcel is back: the return moves to received (restocking its units when asked), and the
   * refund of what was paid for them is reserved with its job in the same transaction, under the
   * order's row lock; the request then sends it to the provider once (the job is the backstop).
   * A manual payment's refund completes at once and the return is refunded.
   */
  async receive(caller: Caller, returnId: string, restock: boolean): Promise<ReturnView> {
    const actor = actorOf(caller);
    const refundId = await inTransaction(async (transaction) => {
      const found = await this.visible(caller, returnId, transaction);
      // The order's row first, as refunds take it, then the return's.
      await queryRows('SELECT id FROM orders WHERE id = $orderId FOR UPDATE', { orderId: found.order_id }, transaction);
      const moved = await moveStatus(RETURN_STATUS, 'received', {
        where: 't.id = $returnId',
        bind: { returnId, restock },
        set: { received_at: 'now()', restock: '$restock' },
        transaction,
      });
      if (moved.length === 0) throw await this.refusedMove(returnId, 'received', transaction);
      await recordMove(returnId, 'approved', 'received', actor, restock ? 'Received, back in stock' : 'Received', transaction);
      if (restock) {
        const units = await queryRows<{ variant_id: string; quantity: number }>(
          `SELECT oi.variant_id, ri.quantity FROM return_items ri JOIN order_items oi ON oi.id = ri.order_item_id
            WHERE ri.return_id = $returnId AND oi.variant_id IS NOT NULL`,
          { returnId },
          transaction,
        );
        await restockVariants(units.map((unit) => ({ variantId: unit.variant_id, quantity: unit.quantity })), transaction);
      }
      return payments().refundReturnIn(returnId, actor, transaction);
    }, { name: 'receive return' });
    if (refundId) await payments().settleRefund(refundId, actor, { throwOnFailure: false });
    return this.view(returnId);
  }

  /** A return the caller may act on: an admin any, a seller their own; else 404. */
  private async visible(caller: Caller, returnId: string, transaction?: Transaction): Promise<ReturnRow> {
    const [row] = isUuid(returnId)
      ? await queryRows<ReturnRow>(`SELECT ${RETURN_COLUMNS} FROM returns r WHERE r.id = $returnId`, { returnId }, transaction)
      : [];
    if (!row || (caller.role !== 'admin' && row.seller_id !== caller.id)) throw new NotFoundError('Return');
    return row;
  }

  private async refusedMove(returnId: string, to: ReturnStatus, transaction: Transaction): Promise<ConflictError> {
    const [row] = await queryRows<{ status: ReturnStatus }>('SELECT status FROM returns WHERE id = $returnId', { returnId }, transaction);
    return new ConflictError('INVALID_STATUS_TRANSITION', `A return that is ${row?.status ?? 'gone'} cannot become ${to}`);
  }

  /** Returns of the seller's lines (an admin: all), newest first. */
  async list(caller: Caller, query: ReturnListQuery): Promise<{ returns: ReturnView[]; pagination: Pagination }> {
    const conditions: string[] = [];
    const bind: Record<string, unknown> = {};
    if (caller.role !== 'admin') {
      conditions.push('r.seller_id = $sellerId');
      bind.sellerId = caller.id;
    }
    if (query.status) {
      conditions.push('r.status = $status::enum_returns_status');
      bind.status = query.status;
    }
    const where = conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '';
    const [{ total }] = await queryRows<{ total: number }>(`SELECT count(*)::int AS total FROM returns r ${where}`, bind);
    const rows = await queryRows<{ id: string }>(`SELECT r.id FROM returns r ${where} ORDER BY r.created_at DESC, r.id DESC LIMIT $limit OFFSET $offset`, {
      ...bind,
      limit: query.limit,
      offset: offsetOf(query),
    });
    return { returns: await this.views(rows.map((row) => row.id)), pagination: paginationOf(query, total) };
  }

  async view(returnId: string): Promise<ReturnView> {
    const [view] = await this.views([returnId]);
    if (!view) throw new NotFoundError('Return');
    return view;
  }

  /** The returns with their items and history, in the order of `ids`, in one statement. */
  private async views(ids: string[]): Promise<ReturnView[]> {
    if (ids.length === 0) return [];
    const rows = await queryRows<ReturnRow & { items: ReturnView['items']; history: Array<{ status: ReturnStatus; from_status: ReturnStatus | null; note: string | null; actor_id: string | null; actor_role: Actor['role']; created_at: string }> }>(
      `SELECT ${RETURN_COLUMNS},
              (SELECT json_agg(json_build_object('orderItemId', ri.order_item_id, 'quantity', ri.quantity, 'reason', ri.reason) ORDER BY ri.order_item_id)
                 FROM return_items ri WHERE ri.return_id = r.id) AS items,
              (SELECT json_agg(json_build_object('status', h.to_status, 'from_status', h.from_status, 'note', h.note, 'actor_id', h.actor_id,
                                                 'actor_role', h.actor_role, 'created_at', h.created_at) ORDER BY h.created_at, h.id)
                 FROM return_status_history h WHERE h.return_id = r.id) AS history
         FROM returns r WHERE r.id = ANY($ids::uuid[])`,
      { ids },
    );
    const byId = new Map(rows.map((row) => [row.id, row]));
    return ids
      .map((id) => byId.get(id))
      .filter((row): row is NonNullable<typeof row> => row !== undefined)
      .map((row) => ({
        id: row.id,
        orderId: row.order_id,
        sellerId: row.seller_id,
        status: row.status,
        note: row.note,
        items: row.items ?? [],
        refundAmount: row.refund_amount,
        restock: row.restock,
        createdAt: row.created_at,
        history: (row.history ?? []).map((entry) => ({
          status: entry.status,
          fromStatus: entry.from_status,
          note: entry.note,
          actor: { id: entry.actor_id, role: entry.actor_role },
          createdAt: new Date(entry.created_at),
        })),
      }));
  }
}

export const returnService = new ReturnService();
