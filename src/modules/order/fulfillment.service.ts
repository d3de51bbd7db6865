import type { Transaction } from 'sequelize';
import { queryRows } from '../../platform/db/query';
import { inTransaction } from '../../platform/db/transaction';
import { isUuid, Order, OrderItem, type FulfillmentStatus, type OrderStatus } from '../../models';
import { ConflictError, NotFoundError } from '../../platform/utils/errors';
import { offsetOf, paginationOf, type Pagination } from '../../platform/utils/pagination';
import type { Caller } from '../accounts';
import { actorOf, moveOrder } from './order-state';
import { serializeSellerOrder, type SellerOrderView } from './order.serializer';
import { moveStatus } from '../../platform/db/status-machine';
import { FULFILLMENT_STATUS } from './fulfillment-state';
import { mailShipped } from './order-notifications';
import type { OrderListQuery } from './order.service';

/** Sellers' side of orders: their lines, and shipping them. */

export interface SellerOrderQuery extends OrderListQuery {
  fulfillmentStatus?: FulfillmentStatus;
}

export interface FulfilInput {
  itemIds?: string[];
  trackingNumber?: string | null;
  trackingUrl?: string | null;
}

interface LockedOrderRow {
  id: string;
  status: OrderStatus;
  payment_status: string;
}

export class FulfillmentService {
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

export const fulfillmentService = new FulfillmentService();
