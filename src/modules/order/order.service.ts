import crypto from 'node:crypto';
import type { Transaction } from 'sequelize';
import { config } from '../../platform/config';
import { queryRows } from '../../platform/db/query';
import { inTransaction } from '../../platform/db/transaction';
import { sqlFilter, type SqlFilter } from '../../platform/db/sql-filter';
import { recordJob } from '../../platform/jobs/outbox';
import {
  isUuid,
  Order,
  OrderItem,
  OrderStatusHistory,
  PaymentTransaction,
  type Address,
  type FulfillmentStatus,
  type OrderStatus,
} from '../../models';
import { BadRequestError, ConflictError, NotFoundError, UnprocessableError } from '../../platform/utils/errors';
import { logger } from '../../platform/utils/logger';
import { fromMinor, toMinor } from '../../platform/utils/money';
import { offsetOf, paginationOf, type PageQuery, type Pagination } from '../../platform/utils/pagination';
import { orderTotals } from '../finance';
import type { Caller } from '../accounts';
import { canMove, moveOrder, SYSTEM_ACTOR, type Actor } from './order-state';
import { providerBackstopMs } from '../../platform/payments';
import { payments } from './payments-port';
import { serializeOrder, serializePlacedOrder, serializeSellerOrder, type OrderView, type PlacedOrderRow, type SellerOrderView } from './order.serializer';
import { moveStatus } from '../../platform/db/status-machine';
import { FULFILLMENT_STATUS } from './fulfillment-state';
import { mailShipped } from './order-notifications';
import { insufficientStock, restockOrder, takeStock, type StockShortfall } from '../catalog';


export interface CheckoutInput {
  shippingAddress: Address;
  billingAddress?: Address | null;
  notes?: string | null;
}

export interface CheckoutResult {
  order: OrderView;
  /** True when an earlier request with the same Idempotency-Key made this order. */
  replayed: boolean;
}

export interface HistoryEntryView {
  status: OrderStatus;
  fromStatus: OrderStatus | null;
  note: string | null;
  actor: { id: string | null; role: string };
  createdAt: Date;
}

export interface OrderListQuery extends PageQuery {
  status?: OrderStatus;
}

export interface AdminOrderQuery extends OrderListQuery {
  /** Orders whose payment the customer disputed with their bank. */
  disputed?: boolean;
  userId?: string;
  sellerId?: string;
  from?: Date;
  to?: Date;
}

export interface SellerOrderQuery extends OrderListQuery {
  fulfillmentStatus?: FulfillmentStatus;
}

export interface AdminStatusInput {
  status: OrderStatus;
  trackingNumber?: string | null;
  trackingUrl?: string | null;
  note?: string | null;
}

export interface FulfilInput {
  itemIds?: string[];
  trackingNumber?: string | null;
  trackingUrl?: string | null;
}

/** What a cancel leaves to do after its commit (each also recorded as a job in its transaction). */
interface CancelOutcome {
  refundId: string | null;
  /** The order may have open card intents to cancel at the provider. */
  cancelIntents: boolean;
}

const IDEMPOTENCY_TTL_HOURS = 24;

const PLACE_ORDER = `
WITH placed AS (
  INSERT INTO orders (order_number, user_id, currency, subtotal, tax_amount, shipping_amount, discount_amount, total_amount,
                      shipping_address, billing_address, notes, expires_at)
  VALUES ($orderNumber, $userId, $currency, $subtotal, $tax, $shipping, $discount, $total, $shippingAddress::jsonb, $billingAddress::jsonb, $notes,
          now() + make_interval(mins => $timeout::int))
  ON CONFLICT (order_number) DO NOTHING
  RETURNING *
), lines AS (
  INSERT INTO order_items (order_id, product_id, seller_id, product_name, product_sku, product_image, unit_price, quantity, line_total, commission_rate)
  SELECT placed.id, u.product_id, u.seller_id, u.name, u.sku, u.image, u.price, u.quantity, u.price * u.quantity, u.rate
    FROM placed,
         unnest($productIds::uuid[], $sellerIds::uuid[], $names::text[], $skus::text[], $images::text[], $prices::numeric[], $quantities::int[], $rates::numeric[])
           AS u(product_id, seller_id, name, sku, image, price, quantity, rate)
  RETURNING *
), history AS (
  INSERT INTO order_status_history (order_id, from_status, to_status, note, actor_id, actor_role)
  SELECT placed.id, NULL, 'pending', 'Order placed', $userId, $actorRole::enum_order_status_history_actor_role FROM placed
), emptied AS (
  DELETE FROM cart_items WHERE id = ANY($cartItemIds::uuid[]) AND EXISTS (SELECT 1 FROM placed)
)
SELECT placed.*, lines.id AS item_id, lines.product_id AS item_product_id, lines.seller_id AS item_seller_id,
       lines.product_name AS item_product_name, lines.product_sku AS item_product_sku, lines.product_image AS item_product_image,
       lines.unit_price AS item_unit_price, lines.quantity AS item_quantity, lines.line_total AS item_line_total,
       lines.refunded_amount AS item_refunded_amount, lines.fulfillment_status AS item_fulfillment_status,
       lines.tracking_number AS item_tracking_number, lines.tracking_url AS item_tracking_url
  FROM placed JOIN lines ON lines.order_id = placed.id`;
/** Products a cart line can still be bought from (out of stock is a shortfall, not a withdrawal). */
const SELLABLE_STATUSES = ['active', 'out_of_stock'];

function productUnavailable(lines: CartLineRow[]): ConflictError {
  return new ConflictError(
    'PRODUCT_UNAVAILABLE',
    'Some products in the cart are no longer for sale; remove them from the cart',
    lines.map((line) => ({ productId: line.product_id, name: line.name })),
  );
}

const ORDER_NUMBER_ALPHABET = '23456789ABCDEFGHJKLMNPQRSTUVWXYZ';
const EXPIRY_BATCH = 200;

interface CartLineRow {
  item_id: string;
  product_id: string;
  quantity: number;
  name: string;
  sku: string;
  image: string | null;
  price: string;
  seller_id: string;
  status: string;
  deleted_at: Date | null;
  stock_quantity: number;
  commission_rate: string;
}

interface LockedOrderRow {
  id: string;
  user_id: string;
  status: OrderStatus;
  payment_status: string;
  payment_provider: string | null;
  order_number: string;
  total_amount: string;
  amount_paid: string;
  amount_refunded: string;
  currency: string;
}

/** ORD-YYYYMMDD-XXXXXX: the UTC date and six characters of an alphabet without look-alikes (32^6 a day). */
export function newOrderNumber(now: Date = new Date()): string {
  const date = now.toISOString().slice(0, 10).replace(/-/g, '');
  let suffix = '';
  for (let i = 0; i < 6; i += 1) suffix += ORDER_NUMBER_ALPHABET[crypto.randomInt(ORDER_NUMBER_ALPHABET.length)];
  return `ORD-${date}-${suffix}`;
}

/** JSON with sorted keys: the same body always hashes the same, whatever the key order it was sent in. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    return `{${Object.keys(value)
      .sort()
      .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
      .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}


function actorOf(caller: Caller): Actor {
  return { id: caller.id, role: caller.role };
}

export class OrderService {
  /**
   * Places the signed-in user's cart as an order, in one transaction (retried on deadlock or
   * serialization failure): prices re-read, lines snapshotted (name, SKU, image, price, seller,
   * commission rate), totals from the configured rules, the cart emptied, the first history row,
   * and the stock taken last by one conditional UPDATE, so that no two orders ever sell the same
   * unit and the row locks are held for the shortest time. With an Idempotency-Key the same key
   * and body give the same order (also when sent many times at once); another body is 422.
   */
  async checkout(caller: Caller, input: CheckoutInput, idempotencyKey?: string): Promise<CheckoutResult> {
    const requestHash = crypto.createHash('sha256').update(canonicalJson(input)).digest('hex');
    const result = await inTransaction(
      async (transaction): Promise<CheckoutResult> => {
        if (idempotencyKey) {
          const replay = await this.claimIdempotencyKey(caller.id, idempotencyKey, requestHash, transaction);
          if (replay) return replay;
        }
        // The cart's row lock: a concurrent checkout of the same cart waits here and then finds it
        // empty; adds wait for this order to be placed (or not).
        await queryRows('SELECT id FROM carts WHERE user_id = $userId FOR UPDATE', { userId: caller.id }, transaction);
        const lines = await queryRows<CartLineRow>(
          `SELECT ci.id AS item_id, ci.product_id, ci.quantity, p.name, p.sku, p.images->>0 AS image, p.price, p.seller_id, p.status, p.deleted_at,
                  p.stock_quantity, coalesce(sp.commission_rate, $defaultRate::numeric(5,4)) AS commission_rate
             FROM carts c
             JOIN cart_items ci ON ci.cart_id = c.id
             JOIN products p ON p.id = ci.product_id
             LEFT JOIN seller_profiles sp ON sp.user_id = p.seller_id
            WHERE c.user_id = $userId
            ORDER BY ci.product_id`,
          { userId: caller.id, defaultRate: config.commerce.commissionRate.toFixed(4) },
          transaction,
        );
        if (lines.length === 0) throw new BadRequestError('CART_EMPTY', 'The cart is empty');
        // Refused before anything is written; the conditional take below is what guarantees it.
        const withdrawn = lines.filter((line) => !SELLABLE_STATUSES.includes(line.status) || line.deleted_at !== null);
        if (withdrawn.length > 0) throw productUnavailable(withdrawn);
        const short: StockShortfall[] = lines
          .filter((line) => line.status !== 'active' || line.stock_quantity < line.quantity)
          .map((line) => ({
            productId: line.product_id,
            name: line.name,
            requested: line.quantity,
            available: line.status === 'active' ? line.stock_quantity : 0,
          }));
        if (short.length > 0) throw insufficientStock(short);

        const subtotal = lines.reduce((sum, line) => sum + toMinor(line.price) * line.quantity, 0);
        const order = await this.placeOrder(caller, input, lines, orderTotals(subtotal), transaction);
        if (idempotencyKey) {
          await queryRows(
            `UPDATE idempotency_keys SET response_status = 201, response_body = $body::jsonb, resource_id = $orderId, locked_at = NULL, updated_at = now()
              WHERE user_id = $userId AND key = $key`,
            { body: JSON.stringify(order), orderId: order.id, userId: caller.id, key: idempotencyKey },
            transaction,
          );
        }
        // Last: the row locks of the stock are held from here to the commit only.
        await takeStock(
          lines.map((line) => ({ productId: line.product_id, quantity: line.quantity, unitPrice: line.price })),
          transaction,
        );
        return { order, replayed: false };
      },
      { name: 'checkout' },
    );
    if (!result.replayed) logger.info('order placed', { orderId: result.order.id, userId: caller.id, total: result.order.totalAmount });
    return result;
  }

  /**
   * Takes the key for this request, or answers with what the first request with it made. The
   * insert waits on the unique index for a concurrent holder of the key to commit or roll back,
   * so of many requests at once one places the order and the others replay it. An expired key
   * (24 h) is taken over.
   */
  private async claimIdempotencyKey(userId: string, key: string, requestHash: string, transaction: Transaction): Promise<CheckoutResult | undefined> {
    const claimed = await queryRows<{ id: string }>(
      `INSERT INTO idempotency_keys (user_id, key, method, path, request_hash, locked_at, expires_at)
       VALUES ($userId, $key, 'POST', '/api/orders', $requestHash, now(), now() + make_interval(hours => ${IDEMPOTENCY_TTL_HOURS}))
       ON CONFLICT (user_id, key) DO UPDATE
          SET request_hash = EXCLUDED.request_hash, method = EXCLUDED.method, path = EXCLUDED.path, response_status = NULL,
              response_body = NULL, resource_id = NULL, locked_at = now(), expires_at = EXCLUDED.expires_at, created_at = now(), updated_at = now()
        WHERE idempotency_keys.expires_at <= now()
       RETURNING id`,
      { userId, key, requestHash },
      transaction,
    );
    if (claimed.length > 0) return undefined;
    const [existing] = await queryRows<{ request_hash: string; path: string; response_status: number | null; response_body: OrderView | null; resource_id: string | null }>(
      'SELECT request_hash, path, response_status, response_body, resource_id FROM idempotency_keys WHERE user_id = $userId AND key = $key',
      { userId, key },
      transaction,
    );
    if (!existing || existing.path !== '/api/orders' || existing.request_hash !== requestHash) {
      throw new UnprocessableError('IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was used with another request');
    }
    if (!existing.response_body) throw new Error('An idempotency key committed without its response');
    return { order: existing.response_body, replayed: true };
  }

  /**
   * Writes the order, its lines (the snapshot), its first history row, and empties the cart, in
   * one statement; returns the order as the API shows it, from what the statement wrote.
   */
  private async placeOrder(caller: Caller, input: CheckoutInput, lines: CartLineRow[], totals: ReturnType<typeof orderTotals>, transaction: Transaction): Promise<OrderView> {
    const bind = {
      userId: caller.id,
      actorRole: caller.role,
      currency: config.commerce.currency,
      subtotal: fromMinor(totals.subtotal),
      tax: fromMinor(totals.tax),
      shipping: fromMinor(totals.shipping),
      discount: fromMinor(totals.discount),
      total: fromMinor(totals.total),
      shippingAddress: JSON.stringify(input.shippingAddress),
      billingAddress: input.billingAddress ? JSON.stringify(input.billingAddress) : null,
      notes: input.notes ?? null,
      timeout: config.commerce.paymentTimeoutMinutes,
      cartItemIds: lines.map((line) => line.item_id),
      productIds: lines.map((line) => line.product_id),
      sellerIds: lines.map((line) => line.seller_id),
      names: lines.map((line) => line.name),
      skus: lines.map((line) => line.sku),
      images: lines.map((line) => line.image),
      prices: lines.map((line) => line.price),
      quantities: lines.map((line) => line.quantity),
      rates: lines.map((line) => line.commission_rate),
    };
    // A number another order holds makes the statement write nothing (the unique index decides): draw again.
    for (let attempt = 0; attempt < 10; attempt += 1) {
      const rows = await queryRows<PlacedOrderRow>(PLACE_ORDER, { ...bind, orderNumber: newOrderNumber() }, transaction);
      if (rows.length > 0) return serializePlacedOrder(rows);
    }
    throw new Error('Could not draw a free order number in 10 tries');
  }

  private async load(orderId: string, transaction?: Transaction, options: { transactions?: boolean } = {}): Promise<Order> {
    const include: Array<Record<string, unknown>> = [{ model: OrderItem, as: 'items' }];
    if (options.transactions) include.push({ model: PaymentTransaction, as: 'transactions' });
    const order = await Order.findByPk(orderId, { include, transaction });
    if (!order) throw new NotFoundError('Order');
    return order;
  }

  /** An order the caller may see: their own, or any for an admin (others get 404, as if it did not exist). */
  private async findVisible(orderId: string, caller: Caller): Promise<Order> {
    if (!isUuid(orderId)) throw new NotFoundError('Order');
    const order = await Order.findByPk(orderId, { attributes: ['id', 'userId'] });
    if (!order || (caller.role !== 'admin' && order.userId !== caller.id)) throw new NotFoundError('Order');
    return order;
  }

  /** The caller's own orders, newest first. */
  async listOwn(userId: string, query: OrderListQuery): Promise<{ orders: OrderView[]; pagination: Pagination }> {
    return this.page(sqlFilter({ userId, status: query.status }, { userId: 'o.user_id = $userId', status: 'o.status = $status::enum_orders_status' }), query);
  }

  /** A page of orders chosen by `filter` (conditions on `orders o`), newest first, with their lines. */
  private async page(filter: SqlFilter, query: PageQuery): Promise<{ orders: OrderView[]; pagination: Pagination }> {
    const [{ count }] = await queryRows<{ count: number }>(`SELECT count(*)::int AS count FROM orders o ${filter.where}`, filter.bind);
    const rows = await queryRows<{ id: string }>(`SELECT o.id FROM orders o ${filter.where} ORDER BY o.created_at DESC, o.id DESC LIMIT $limit OFFSET $offset`, {
      ...filter.bind,
      limit: query.limit,
      offset: offsetOf(query),
    });
    const ids = rows.map((row) => row.id);
    const orders = ids.length === 0 ? [] : await Order.findAll({ where: { id: ids }, include: [{ model: OrderItem, as: 'items' }] });
    const byId = new Map(orders.map((order) => [order.id, order]));
    return { orders: ids.map((id) => serializeOrder(byId.get(id)!)), pagination: paginationOf(query, count) };
  }

  async get(orderId: string, caller: Caller): Promise<OrderView> {
    const visible = await this.findVisible(orderId, caller);
    return serializeOrder(await this.load(visible.id, undefined, { transactions: true }));
  }

  async history(orderId: string, caller: Caller): Promise<HistoryEntryView[]> {
    const visible = await this.findVisible(orderId, caller);
    const rows = await OrderStatusHistory.findForOrder(visible.id);
    return rows.map((row) => ({
      status: row.toStatus,
      fromStatus: row.fromStatus,
      note: row.note,
      actor: { id: row.actorId, role: row.actorRole },
      createdAt: row.createdAt,
    }));
  }

  /**
   * Cancels a pending or confirmed order (its owner, or an admin): the stock of its lines comes
   * back exactly once (the move is conditional), a paid order is refunded in full, its open card
   * intents are cancelled, and the lines are marked cancelled. Once a line has shipped the
   * customer can no longer cancel (409 ORDER_NOT_CANCELLABLE); an admin's cancel then cancels the
   * lines not shipped yet only (see cancelIn). The refund and the intent cancels are recorded as
   * jobs with the cancel, and tried once at once after it commits.
   */
  async cancel(orderId: string, caller: Caller, reason?: string | null): Promise<OrderView> {
    await this.findVisible(orderId, caller);
    const actor = actorOf(caller);
    const outcome = await inTransaction((transaction) => this.cancelIn(orderId, actor, reason ?? null, transaction), { name: 'cancel' });
    await this.afterCancel(orderId, outcome, actor);
    logger.info('order cancelled', { orderId, by: caller.id });
    return serializeOrder(await this.load(orderId, undefined, { transactions: true }));
  }

  /** The provider calls a committed cancel recorded as jobs, tried at once so the answer shows them; the jobs stay as the backstop. */
  private async afterCancel(orderId: string, outcome: CancelOutcome, actor: Actor): Promise<void> {
    if (outcome.refundId) await payments().settleRefund(outcome.refundId, actor, { throwOnFailure: false });
    if (outcome.cancelIntents) await payments().cancelOpenIntents(orderId);
  }

  /**
   * The cancel itself, under the order's row lock (which a seller shipping a line also takes, so
   * the two cannot cross). With no line shipped the whole order is cancelled. With some shipped,
   * only an admin may cancel, and only the lines not shipped yet: they are cancelled, restocked
   * and refunded their share (with their part of tax and shipping), and the order, all of whose
   * remaining lines have shipped, moves to shipped. `asStatusMove`: refused as any move outside
   * the table is (an admin's PATCH status), not as a cancel request.
   */
  private async cancelIn(orderId: string, actor: Actor, reason: string | null, transaction: Transaction, asStatusMove = false): Promise<CancelOutcome> {
    const [order] = await queryRows<{ status: OrderStatus; payment_provider: string | null }>(
      'SELECT status, payment_provider FROM orders WHERE id = $orderId FOR UPDATE',
      { orderId },
      transaction,
    );
    if (!order) throw new NotFoundError('Order');
    const [{ shipped, open }] = await queryRows<{ shipped: number; open: number }>(
      `SELECT count(*) FILTER (WHERE shipped_at IS NOT NULL OR fulfillment_status IN ('shipped', 'delivered'))::int AS shipped,
              count(*) FILTER (WHERE fulfillment_status = 'unfulfilled')::int AS open
         FROM order_items WHERE order_id = $orderId`,
      { orderId },
      transaction,
    );
    const cancellable = order.status === 'pending' || order.status === 'confirmed' || order.status === 'processing';
    if (shipped > 0 && open > 0 && cancellable) {
      if (actor.role !== 'admin') throw new ConflictError('ORDER_NOT_CANCELLABLE', 'A line of this order has shipped: it can no longer be cancelled');
      return this.cancelUnshippedLines(orderId, actor, reason, transaction);
    }
    if (shipped > 0 && !asStatusMove) throw new ConflictError('ORDER_NOT_CANCELLABLE', 'Every line of this order has shipped: it can no longer be cancelled');
    await moveOrder(orderId, 'cancelled', {
      transaction,
      actor,
      note: reason,
      from: ['pending', 'confirmed'],
      set: { cancellation_reason: reason },
      refusal: asStatusMove ? undefined : (current) => new ConflictError('ORDER_NOT_CANCELLABLE', `An order that is ${current} cannot be cancelled`),
    });
    await restockOrder(orderId, transaction);
    await moveStatus(FULFILLMENT_STATUS, 'cancelled', { where: 't.order_id = $orderId', bind: { orderId }, transaction });
    const refundId = await payments().refundEverythingIn(orderId, actor, reason ?? 'Order cancelled', transaction);
    return { refundId, cancelIntents: await this.recordIntentCancels(orderId, order.payment_provider, transaction) };
  }

  private async cancelUnshippedLines(orderId: string, actor: Actor, reason: string | null, transaction: Transaction): Promise<CancelOutcome> {
    const cancelled = await moveStatus(FULFILLMENT_STATUS, 'cancelled', { where: 't.order_id = $orderId', bind: { orderId }, transaction });
    const itemIds = cancelled.map((row) => row.id);
    await restockOrder(orderId, transaction, itemIds);
    const note = `Lines not shipped cancelled${reason ? `: ${reason}` : ''}`;
    const refundId = await payments().refundLinesIn(orderId, itemIds, actor, note, transaction);
    await moveOrder(orderId, 'shipped', { transaction, actor, note, from: ['confirmed', 'processing'] });
    await mailShipped(orderId, transaction);
    return { refundId, cancelIntents: false };
  }

  /** Records the job that cancels a card order's open intents (in the cancel's transaction); true when there may be some. */
  private async recordIntentCancels(orderId: string, provider: string | null, transaction: Transaction): Promise<boolean> {
    if (provider !== 'stripe') return false;
    await recordJob('payments.cancel-intents', { orderId }, { transaction, delayMs: providerBackstopMs() });
    return true;
  }

  /**
   * Cancels unpaid pending orders past their payment deadline and returns their stock. Safe to
   * run in several workers at once: each order moves (and is restocked) by one of them only.
   * Also forgets expired idempotency keys and guest carts. Returns how many orders it cancelled.
   */
  async expireDue(): Promise<number> {
    const due = await queryRows<{ id: string }>(
      `SELECT id FROM orders WHERE status = 'pending' AND expires_at <= now() ORDER BY expires_at LIMIT ${EXPIRY_BATCH}`,
      {},
    );
    let expired = 0;
    for (const { id } of due) {
      try {
        const cancelIntents = await inTransaction(async (transaction) => {
          await moveOrder(id, 'cancelled', {
            transaction,
            actor: SYSTEM_ACTOR,
            note: 'Payment not received in time',
            from: ['pending'],
            set: { cancellation_reason: 'payment_timeout' },
          });
          await restockOrder(id, transaction);
          await moveStatus(FULFILLMENT_STATUS, 'cancelled', { where: 't.order_id = $id', bind: { id }, transaction });
          const [order] = await queryRows<{ payment_provider: string | null }>('SELECT payment_provider FROM orders WHERE id = $id', { id }, transaction);
          return this.recordIntentCancels(id, order?.payment_provider ?? null, transaction);
        }, { name: 'expire order' });
        expired += 1;
        await this.afterCancel(id, { refundId: null, cancelIntents }, SYSTEM_ACTOR);
      } catch (error) {
        // Paid or cancelled meanwhile (or by another worker): nothing to do.
        if (error instanceof ConflictError) continue;
        throw error;
      }
    }
    await queryRows('DELETE FROM idempotency_keys WHERE expires_at <= now()', {});
    await queryRows('DELETE FROM carts WHERE user_id IS NULL AND expires_at <= now()', {});
    if (expired > 0) logger.info('unpaid orders expired', { count: expired });
    return expired;
  }

  /** Every order, filtered, newest first. */
  async adminList(query: AdminOrderQuery): Promise<{ orders: OrderView[]; pagination: Pagination }> {
    const filter = sqlFilter(
      { status: query.status, userId: query.userId, disputed: query.disputed, from: query.from, to: query.to, sellerId: query.sellerId },
      {
        status: 'o.status = $status::enum_orders_status',
        userId: 'o.user_id = $userId',
        disputed: 'o.disputed = $disputed',
        from: 'o.created_at >= $from',
        to: 'o.created_at <= $to',
        sellerId: 'o.id IN (SELECT order_id FROM order_items WHERE seller_id = $sellerId)',
      },
    );
    return this.page(filter, query);
  }

  /**
   * An admin moves a whole order. `shipped` ships every unshipped line (with the tracking given)
   * and mails the customer; `delivered` delivers the shipped lines; `cancelled` is a cancel
   * (restock, refund); `refunded` refunds what was paid. A move not in the table is 409
   * INVALID_STATUS_TRANSITION; `confirmed` comes only from a payment (mark-paid).
   */
  async adminSetStatus(orderId: string, admin: Caller, input: AdminStatusInput): Promise<OrderView> {
    if (!isUuid(orderId)) throw new NotFoundError('Order');
    const actor = actorOf(admin);
    const note = input.note ?? null;
    if (input.status === 'refunded') {
      // The move happens with the refund that settles what was paid (through the provider, outside any lock).
      const [current] = await queryRows<{ status: OrderStatus }>('SELECT status FROM orders WHERE id = $orderId', { orderId });
      if (!current) throw new NotFoundError('Order');
      if (!canMove(current.status, 'refunded')) throw new ConflictError('INVALID_STATUS_TRANSITION', `An order cannot move from ${current.status} to refunded`);
      await payments().refund(orderId, admin, { reason: note });
      logger.info('order status set', { orderId, status: input.status, by: admin.id });
      return this.get(orderId, admin);
    }
    const nothingToDo: CancelOutcome = { refundId: null, cancelIntents: false };
    const outcome = await inTransaction(async (transaction): Promise<CancelOutcome> => {
      switch (input.status) {
        case 'cancelled':
          return this.cancelIn(orderId, actor, note, transaction, true);
        case 'shipped': {
          const tracking = { tracking_number: input.trackingNumber ?? null, tracking_url: input.trackingUrl ?? null };
          await moveOrder(orderId, 'shipped', { transaction, actor, note, set: tracking });
          await moveStatus(FULFILLMENT_STATUS, 'shipped', {
            where: 't.order_id = $orderId',
            bind: { orderId, trackingNumber: tracking.tracking_number, trackingUrl: tracking.tracking_url },
            set: { tracking_number: 'coalesce($trackingNumber, t.tracking_number)', tracking_url: 'coalesce($trackingUrl, t.tracking_url)', shipped_at: 'now()' },
            transaction,
          });
          await mailShipped(orderId, transaction);
          return nothingToDo;
        }
        case 'delivered':
          await moveOrder(orderId, 'delivered', { transaction, actor, note });
          await moveStatus(FULFILLMENT_STATUS, 'delivered', { where: 't.order_id = $orderId', bind: { orderId }, set: { delivered_at: 'now()' }, transaction });
          return nothingToDo;
        case 'confirmed':
        case 'pending':
          await moveOrder(orderId, input.status, {
            transaction,
            actor,
            note,
            from: [],
            refusal: (current) =>
              new ConflictError('INVALID_STATUS_TRANSITION', `An order cannot be moved from ${current} to ${input.status} by hand; a payment confirms it`),
          });
          return nothingToDo;
        default:
          await moveOrder(orderId, input.status, { transaction, actor, note });
          return nothingToDo;
      }
    }, { name: 'admin order status' });
    await this.afterCancel(orderId, outcome, actor);
    logger.info('order status set', { orderId, status: input.status, by: admin.id });
    return this.get(orderId, admin);
  }

  /** Orders holding the seller's lines (those only), newest first. */
  async sellerList(sellerId: string, query: SellerOrderQuery): Promise<{ orders: SellerOrderView[]; pagination: Pagination }> {
    const bind: Record<string, unknown> = { sellerId, limit: query.limit, offset: offsetOf(query) };
    const lineConditions = ['oi.seller_id = $sellerId'];
    const orderConditions: string[] = [];
    if (query.fulfillmentStatus) {
      bind.fulfillmentStatus = query.fulfillmentStatus;
      lineConditions.push('oi.fulfillment_status = $fulfillmentStatus::enum_order_items_fulfillment_status');
    }
    if (query.status) {
      bind.status = query.status;
      orderConditions.push('o.status = $status::enum_orders_status');
    }
    const where = [`o.id IN (SELECT oi.order_id FROM order_items oi WHERE ${lineConditions.join(' AND ')})`, ...orderConditions].join(' AND ');
    const [{ total }] = await queryRows<{ total: number }>(`SELECT count(*)::int AS total FROM orders o WHERE ${where}`, bind);
    const rows = await queryRows<{ id: string }>(`SELECT o.id FROM orders o WHERE ${where} ORDER BY o.created_at DESC, o.id DESC LIMIT $limit OFFSET $offset`, bind);
    const ids = rows.map((row) => row.id);
    const orders = ids.length === 0 ? [] : await Order.findAll({ where: { id: ids }, include: [{ model: OrderItem, as: 'items', where: { sellerId } }] });
    const byId = new Map(orders.map((order) => [order.id, order]));
    return { orders: ids.map((id) => serializeSellerOrder(byId.get(id)!)), pagination: paginationOf(query, total) };
  }

  async sellerGet(orderId: string, sellerId: string, transaction?: Transaction): Promise<SellerOrderView> {
    const order = isUuid(orderId)
      ? await Order.findByPk(orderId, { include: [{ model: OrderItem, as: 'items', where: { sellerId }, required: true }], transaction })
      : null;
    if (!order) throw new NotFoundError('Order');
    return serializeSellerOrder(order);
  }

  /**
   * Marks the seller's unshipped lines of a paid order shipped (those named, or all), with their
   * tracking. When no line of the order is left unshipped the order moves to shipped and the
   * customer gets one mail with every tracking number. The order row is locked first, so two
   * sellers shipping at once cannot both miss that the order is complete.
   */
  async sellerFulfil(orderId: string, seller: Caller, input: FulfilInput): Promise<SellerOrderView> {
    if (!isUuid(orderId)) throw new NotFoundError('Order');
    return inTransaction(async (transaction) => {
      const [order] = await queryRows<LockedOrderRow>('SELECT id, status, payment_status FROM orders WHERE id = $orderId FOR UPDATE', { orderId }, transaction);
      const [{ mine }] = await queryRows<{ mine: number }>(
        'SELECT count(*)::int AS mine FROM order_items WHERE order_id = $orderId AND seller_id = $sellerId',
        { orderId, sellerId: seller.id },
        transaction,
      );
      if (!order || mine === 0) throw new NotFoundError('Order');
      if (input.itemIds) {
        const [{ named }] = await queryRows<{ named: number }>(
          'SELECT count(*)::int AS named FROM order_items WHERE order_id = $orderId AND seller_id = $sellerId AND id = ANY($itemIds::uuid[])',
          { orderId, sellerId: seller.id, itemIds: input.itemIds },
          transaction,
        );
        if (named !== new Set(input.itemIds).size) throw new NotFoundError('OrderItem', 'Some of these items are not yours in this order');
      }
      const paid = order.payment_status === 'paid' || order.payment_status === 'partially_refunded';
      if (!paid || (order.status !== 'confirmed' && order.status !== 'processing')) {
        throw new ConflictError('ORDER_NOT_FULFILLABLE', `An order that is ${order.status} and ${order.payment_status} cannot be shipped`);
      }
      await moveStatus(FULFILLMENT_STATUS, 'shipped', {
        where: `t.order_id = $orderId AND t.seller_id = $sellerId${input.itemIds ? ' AND t.id = ANY($itemIds::uuid[])' : ''}`,
        bind: { orderId, sellerId: seller.id, trackingNumber: input.trackingNumber ?? null, trackingUrl: input.trackingUrl ?? null, ...(input.itemIds ? { itemIds: input.itemIds } : {}) },
        set: { tracking_number: '$trackingNumber', tracking_url: '$trackingUrl', shipped_at: 'now()' },
        transaction,
      });
      const [{ left, numbers }] = await queryRows<{ left: number; numbers: string[] }>(
        `SELECT count(*) FILTER (WHERE fulfillment_status = 'unfulfilled')::int AS left,
                coalesce(array_agg(DISTINCT tracking_number) FILTER (WHERE tracking_number IS NOT NULL), '{}') AS numbers
           FROM order_items WHERE order_id = $orderId`,
        { orderId },
        transaction,
      );
      if (left === 0) {
        // One tracking number for the whole order only when there is one; else each line carries its own.
        const single: Record<string, string> = numbers.length === 1 ? { tracking_number: numbers[0] } : {};
        await moveOrder(orderId, 'shipped', { transaction, actor: actorOf(seller), note: 'Every item shipped', set: single });
        await mailShipped(orderId, transaction);
      }
      return this.sellerGet(orderId, seller.id, transaction);
    }, { name: 'fulfil' });
  }
}

export const orderService = new OrderService();
