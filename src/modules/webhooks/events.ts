import crypto from 'node:crypto';
import type { Transaction } from 'sequelize';
import { queryRows } from '../../platform/db/query';
import { recordJobs } from '../../platform/jobs/outbox';
import type { WebhookEventType } from '../../models';

/**
 * Records an event for the endpoints subscribed to it, in the transaction of the change: one
 * delivery per endpoint and the outbox job that posts it, written together with the change, so a
 * change that rolls back sends nothing and one that commits is delivered even if the process dies
 * right after. An admin's endpoint gets every event; a seller's only those about that seller, with
 * the data filtered to them. With no endpoint subscribed, an event costs one statement that
 * writes nothing.
 */

/** The order as an event shows it: totals and every line for admins, the seller's own lines only (no totals) for a seller. */
const ORDER_PAYLOAD = `(SELECT json_build_object(
    'id', o.id, 'orderNumber', o.order_number, 'status', o.status, 'paymentStatus', o.payment_status, 'currency', o.currency,
    'subtotal', CASE WHEN e.seller_id IS NULL THEN o.subtotal::text END,
    'discountAmount', CASE WHEN e.seller_id IS NULL THEN o.discount_amount::text END,
    'shippingAmount', CASE WHEN e.seller_id IS NULL THEN o.shipping_amount::text END,
    'taxAmount', CASE WHEN e.seller_id IS NULL THEN o.tax_amount::text END,
    'totalAmount', CASE WHEN e.seller_id IS NULL THEN o.total_amount::text END,
    'amountRefunded', CASE WHEN e.seller_id IS NULL THEN o.amount_refunded::text END,
    'shippingAddress', o.shipping_address, 'createdAt', o.created_at, 'paidAt', o.paid_at,
    'items', (SELECT coalesce(json_agg(json_build_object(
                'id', oi.id, 'productId', oi.product_id, 'variantId', oi.variant_id, 'sellerId', oi.seller_id, 'productName', oi.product_name,
                'variantTitle', oi.variant_title, 'productSku', oi.product_sku, 'unitPrice', oi.unit_price::text, 'quantity', oi.quantity,
                'lineTotal', oi.line_total::text, 'discountAmount', oi.discount_amount::text, 'taxAmount', oi.tax_amount::text,
                'refundedAmount', oi.refunded_amount::text, 'returnedQuantity', oi.returned_quantity, 'fulfillmentStatus', oi.fulfillment_status,
                'trackingNumber', oi.tracking_number) ORDER BY oi.created_at, oi.id), '[]'::json)
                FROM order_items oi WHERE oi.order_id = o.id AND (e.seller_id IS NULL OR oi.seller_id = e.seller_id)))
  FROM orders o WHERE o.id = $subjectId)`;

/** A return as an event shows it (its seller's own, whoever reads it). */
const RETURN_PAYLOAD = `(SELECT json_build_object(
    'id', r.id, 'orderId', r.order_id, 'sellerId', r.seller_id, 'status', r.status, 'refundAmount', r.refund_amount::text, 'createdAt', r.created_at,
    'items', (SELECT json_agg(json_build_object('orderItemId', ri.order_item_id, 'quantity', ri.quantity, 'reason', ri.reason) ORDER BY ri.order_item_id)
                FROM return_items ri WHERE ri.return_id = r.id))
  FROM returns r WHERE r.id = $subjectId)`;

/** A product as an event shows it, with its variants (the same for everyone who gets it). */
const PRODUCT_PAYLOAD = `(SELECT json_build_object(
    'id', p.id, 'sellerId', p.seller_id, 'name', p.name, 'slug', p.slug, 'status', p.status, 'categoryId', p.category_id,
    'priceMin', p.price::text, 'priceMax', p.price_max::text, 'stockQuantity', p.stock_quantity, 'deleted', p.deleted_at IS NOT NULL,
    'updatedAt', p.updated_at,
    'variants', (SELECT coalesce(json_agg(json_build_object(
                   'id', v.id, 'sku', v.sku, 'title', v.title, 'options', v.options, 'price', v.price::text, 'stockQuantity', v.stock_quantity,
                   'lowStockThreshold', v.low_stock_threshold, 'status', v.status) ORDER BY v.position, v.id), '[]'::json)
                   FROM product_variants v WHERE v.product_id = p.id AND (v.deleted_at IS NULL OR p.deleted_at IS NOT NULL)))
  FROM products p WHERE p.id = $subjectId)`;

/** A seller's endpoint gets an event about one of these sellers. */
const ABOUT_SELLERS = 'e.seller_id = ANY($sellerIds::uuid[])';
/** A seller's endpoint gets an order event when a line of the order is theirs. */
const ABOUT_ORDER_SELLER = 'EXISTS (SELECT 1 FROM order_items oi WHERE oi.order_id = $subjectId AND oi.seller_id = e.seller_id)';

/** One event's deliveries: an INSERT … SELECT over its subscribed endpoints (active, an admin's or a seller's it is about), each with the body it gets. */
function deliveriesStatement(type: WebhookEventType, payloadSql: string, aboutSeller: string, bind: Record<string, unknown>): { sql: string; bind: Record<string, unknown> } {
  return {
    sql: `INSERT INTO webhook_deliveries (endpoint_id, event_id, type, payload)
          SELECT e.id, $eventId::uuid, $type::varchar, ${payloadSql}
            FROM webhook_endpoints e
           WHERE e.active AND $type::varchar = ANY(e.events) AND (e.seller_id IS NULL OR ${aboutSeller})
          RETURNING id`,
    bind: { ...bind, eventId: crypto.randomUUID(), type },
  };
}

/** The statement that records an order event (the benchmark's bare server runs it too). */
export function orderEventStatement(type: WebhookEventType, orderId: string): { sql: string; bind: Record<string, unknown> } {
  return deliveriesStatement(type, ORDER_PAYLOAD, ABOUT_ORDER_SELLER, { subjectId: orderId });
}

async function record(statement: { sql: string; bind: Record<string, unknown> }, transaction: Transaction): Promise<void> {
  const rows = await queryRows<{ id: string }>(statement.sql, statement.bind, transaction);
  if (rows.length === 0) return;
  await recordJobs(
    'webhooks.deliver',
    rows.map((row) => ({ deliveryId: row.id })),
    { transaction },
  );
}

/** An order event: a seller with a line in it gets theirs. */
export async function recordOrderEvent(type: WebhookEventType, orderId: string, transaction: Transaction): Promise<void> {
  await record(orderEventStatement(type, orderId), transaction);
}

/** A product event, for admins and the product's seller. */
export async function recordProductEvent(type: WebhookEventType, productId: string, transaction: Transaction): Promise<void> {
  await record(deliveriesStatement(type, PRODUCT_PAYLOAD, 'e.seller_id = (SELECT seller_id FROM products WHERE id = $subjectId)', { subjectId: productId }), transaction);
}

/** A return event, for admins and the return's seller. */
export async function recordReturnEvent(type: WebhookEventType, returnId: string, sellerId: string, transaction: Transaction): Promise<void> {
  await record(deliveriesStatement(type, RETURN_PAYLOAD, ABOUT_SELLERS, { subjectId: returnId, sellerIds: [sellerId] }), transaction);
}

/** An event whose data is the same for everyone who gets it (a product, a payout): admins and the seller it is about. */
export async function recordEvent(type: WebhookEventType, data: unknown, sellerId: string | null, transaction: Transaction): Promise<void> {
  await record(deliveriesStatement(type, '$data::jsonb', ABOUT_SELLERS, { data: JSON.stringify(data), sellerIds: sellerId ? [sellerId] : [] }), transaction);
}
