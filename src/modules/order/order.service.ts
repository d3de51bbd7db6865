import type { Transaction } from 'sequelize';
import { queryRows } from '../../platform/db/query';
import { sqlFilter, type SqlFilter } from '../../platform/db/sql-filter';
import { isUuid, Order, OrderItem, OrderShipping, OrderStatusHistory, PaymentTransaction, type OrderStatus } from '../../models';
import { NotFoundError } from '../../platform/utils/errors';
import { offsetOf, paginationOf, type PageQuery, type Pagination } from '../../platform/utils/pagination';
import type { Caller } from '../accounts';
import { serializeOrder, type OrderView } from './order.serializer';

/** Order reads: a customer's own orders, one order with its history, and the admins' list. */

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

export class OrderService {
  async load(orderId: string, transaction?: Transaction, options: { transactions?: boolean } = {}): Promise<Order> {
    const include: Array<Record<string, unknown>> = [{ model: OrderItem, as: 'items' }, { model: OrderShipping, as: 'shipping' }];
    if (options.transactions) include.push({ model: PaymentTransaction, as: 'transactions' });
    const order = await Order.findByPk(orderId, { include, transaction });
    if (!order) throw new NotFoundError('Order');
    return order;
  }

  /** An order the caller may see: their own, or any for an admin (others get 404, as if it did not exist). */
  async findVisible(orderId: string, caller: Caller): Promise<Order> {
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
    const orders = ids.length === 0 ? [] : await Order.findAll({ where: { id: ids }, include: [{ model: OrderItem, as: 'items' }, { model: OrderShipping, as: 'shipping' }] });
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
}

export const orderService = new OrderService();
