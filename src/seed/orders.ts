import { randomBytes } from 'node:crypto';
import type { Sequelize } from 'sequelize';
import { queryRows } from '../platform/db/query';
import { hashPassword } from '../platform/utils/password';
import { ledgerService, lineCommissionSql, statsService } from '../modules/finance';

/**
 * Generated order history for benchmarks and demos: paid orders of 1 to 4 lines from the
 * catalog's products, spread over the last `days` days, most delivered, one in twenty with its
 * first line refunded, written with the same rows the services write (orders, lines snapshot,
 * history, payment and refund transactions, the seller ledger, the sales per day), so that every statistic and
 * balance holds. Products are not restocked nor taken: it is history, not demand.
 */

export interface OrderHistoryOptions {
  orders: number;
  /** Customers who place them (created); default one per 20 orders. */
  customers?: number;
  days?: number;
  /** Only these sellers' products are ordered; default every seller's. */
  sellerIds?: string[];
  bcryptRounds?: number;
  onProgress?: (done: number, total: number) => void;
}

const BATCH = 500;

export async function generateOrders(sequelize: Sequelize, options: OrderHistoryOptions): Promise<{ orders: number; lines: number }> {
  const [{ products }] = await queryRows<{ products: number }>(
    `SELECT count(*)::int AS products FROM products
      WHERE status = 'active' AND deleted_at IS NULL AND ($sellerIds::uuid[] IS NULL OR seller_id = ANY($sellerIds::uuid[]))`,
    { sellerIds: options.sellerIds ?? null },
  );
  if (products === 0) throw new Error('No active products to order: generate a catalog first (npm run seed -- --products N)');
  const runId = randomBytes(3).toString('hex');
  const customers = options.customers ?? Math.max(1, Math.ceil(options.orders / 20));
  const password = await hashPassword(randomBytes(24).toString('base64url'), options.bcryptRounds ?? 10);
  await queryRows(
    `INSERT INTO users (email, password, name, role, status, email_verified)
     SELECT 'customer-' || $runId || '-' || g || '@example.com', $password, 'Customer ' || g, 'customer', 'approved', true
       FROM generate_series(1, $customers::int) g`,
    { runId, password, customers },
  );
  const days = options.days ?? 365;
  let lines = 0;
  // Orders whose drawn number was taken already are skipped (the unique index decides): count what was written.
  let written = 0;
  for (let done = 0; done < options.orders; done += BATCH) {
    const size = Math.min(BATCH, options.orders - done);
    await sequelize.transaction(async (transaction) => {
      const [result] = await queryRows<{ lines: number; ids: string[] }>(
        `WITH buyers AS (
           SELECT id, row_number() OVER () AS n FROM users WHERE email LIKE 'customer-' || $runId || '-%'
         ), catalog AS (
           -- Each product once, as one of its active variants.
           SELECT p.id, v.id AS variant_id, p.name, v.title, v.sku, coalesce(v.images->>0, p.images->>0) AS image, v.price, p.seller_id,
                  coalesce(sp.commission_rate, 0.1) AS rate, row_number() OVER (ORDER BY p.id) AS n
             FROM products p
             JOIN LATERAL (SELECT * FROM product_variants w WHERE w.product_id = p.id AND w.status = 'active' AND w.deleted_at IS NULL
                            ORDER BY random() LIMIT 1) v ON true
             LEFT JOIN seller_profiles sp ON sp.user_id = p.seller_id
            WHERE p.status = 'active' AND p.deleted_at IS NULL AND ($sellerIds::uuid[] IS NULL OR p.seller_id = ANY($sellerIds::uuid[]))
         ), picks AS (
           SELECT g AS o, l, (SELECT id FROM buyers WHERE n = 1 + (g * 7919) % $customers::int) AS user_id,
                  1 + floor(random() * $products::int)::int AS product_n, 1 + floor(random() * 3)::int AS quantity,
                  now() - random() * make_interval(days => $days::int) AS paid_at
             FROM generate_series(1, $size::int) g, generate_series(1, 4) l
            -- 1 to 4 lines, drawn per order (a random() here would be drawn once for the whole batch).
            WHERE l <= 1 + abs(hashtext($runId || '-' || $offset || '-' || g)) % 4
         ), one_paid_at AS (
           SELECT DISTINCT ON (o) o, user_id, paid_at FROM picks ORDER BY o, l
         ), placed AS (
           INSERT INTO orders (order_number, user_id, status, payment_status, payment_provider, currency, subtotal, total_amount, amount_paid,
                               shipping_address, paid_at, shipped_at, delivered_at, created_at, updated_at)
           SELECT 'ORD-' || to_char(x.paid_at, 'YYYYMMDD') || '-' || upper(substr(md5($runId || '-' || $offset || '-' || x.o), 1, 6)),
                  x.user_id, 'delivered', 'paid', 'manual', 'usd', 0, 0, 0,
                  '{"firstName":"Demo","lastName":"Customer","address1":"1 Market Street","city":"Springfield","postalCode":"12345","country":"US"}',
                  x.paid_at, x.paid_at + interval '1 day', x.paid_at + interval '3 days', x.paid_at, x.paid_at
             FROM one_paid_at x
           ON CONFLICT (order_number) DO NOTHING
           RETURNING id, order_number, created_at
         ), keyed AS (
           SELECT p.id, x.o FROM placed p JOIN one_paid_at x ON p.order_number = 'ORD-' || to_char(x.paid_at, 'YYYYMMDD') || '-' || upper(substr(md5($runId || '-' || $offset || '-' || x.o), 1, 6))
         ), items AS (
           INSERT INTO order_items (order_id, product_id, variant_id, seller_id, product_name, variant_title, product_sku, product_image, unit_price,
                                    quantity, line_total, seller_amount, paid_amount, commission_rate, fulfillment_status, shipped_at, delivered_at,
                                    created_at, updated_at)
           SELECT DISTINCT ON (k.id, c.id) k.id, c.id, c.variant_id, c.seller_id, c.name, c.title, c.sku, c.image, c.price,
                  pk.quantity, c.price * pk.quantity, c.price * pk.quantity, c.price * pk.quantity, c.rate,
                  'delivered', pk.paid_at + interval '1 day', pk.paid_at + interval '3 days', pk.paid_at, pk.paid_at
             FROM picks pk JOIN keyed k ON k.o = pk.o JOIN catalog c ON c.n = pk.product_n
           RETURNING order_id
         )
         SELECT (SELECT count(*) FROM items)::int AS lines, (SELECT array_agg(id) FROM keyed) AS ids`,
        { runId, customers, products, days, size, offset: String(done), sellerIds: options.sellerIds ?? null },
        transaction,
      );
      lines += result.lines;
      written += result.ids?.length ?? 0;
      const bind = { ids: result.ids ?? [] };
      // Totals from the lines, the payment, the first history rows, and the ledger's sales (as a payment writes them).
      await queryRows(
        `UPDATE orders o SET subtotal = t.total, total_amount = t.total, amount_paid = t.total
           FROM (SELECT order_id, sum(line_total) AS total FROM order_items WHERE order_id = ANY($ids::uuid[]) GROUP BY order_id) t
          WHERE o.id = t.order_id`,
        bind,
        transaction,
      );
      await queryRows(
        `INSERT INTO transactions (order_id, type, provider, amount, currency, status, created_at, updated_at)
         SELECT o.id, 'payment', 'manual', o.amount_paid, o.currency, 'succeeded', o.paid_at, o.paid_at
           FROM orders o WHERE o.id = ANY($ids::uuid[])`,
        bind,
        transaction,
      );
      await queryRows(
        `INSERT INTO order_status_history (order_id, from_status, to_status, note, actor_role, created_at)
         SELECT o.id, NULL, 'delivered', 'Generated history', 'system', o.paid_at
           FROM orders o WHERE o.id = ANY($ids::uuid[])`,
        bind,
        transaction,
      );
      await ledgerService.recordSales(result.ids ?? [], transaction);
      // One order in twenty has its first line refunded, a week after payment.
      await queryRows(
        `WITH chosen AS (
           SELECT DISTINCT ON (oi.order_id) oi.id AS item_id, oi.order_id, oi.line_total, oi.seller_id, oi.commission_rate, o.paid_at
             FROM order_items oi JOIN orders o ON o.id = oi.order_id
            WHERE o.id = ANY($ids::uuid[]) AND abs(hashtext(o.id::text)) % 20 = 0
            ORDER BY oi.order_id, oi.created_at, oi.id
         ), paid_back AS (
           INSERT INTO transactions (order_id, type, provider, amount, currency, status, created_at, updated_at)
           SELECT order_id, 'refund', 'manual', line_total, 'usd', 'succeeded', paid_at + interval '7 days', paid_at + interval '7 days' FROM chosen
           RETURNING id, order_id
         ), refunded AS (
           INSERT INTO refunds (order_id, transaction_id, amount, reason, status, created_at, updated_at)
           SELECT c.order_id, p.id, c.line_total, 'Generated refund', 'succeeded', c.paid_at + interval '7 days', c.paid_at + interval '7 days'
             FROM chosen c JOIN paid_back p ON p.order_id = c.order_id
           RETURNING id, order_id
         ), entries AS (
           INSERT INTO seller_ledger_entries (seller_id, type, amount, order_id, order_item_id, refund_id, occurred_at)
           SELECT c.seller_id, t.type,
                  CASE t.type WHEN 'refund' THEN -c.line_total ELSE ${lineCommissionSql('c.line_total', '0', 'c.commission_rate')} END,
                  c.order_id, c.item_id, r.id, c.paid_at + interval '7 days'
             FROM chosen c JOIN refunded r ON r.order_id = c.order_id
            CROSS JOIN (VALUES ('refund'::enum_seller_ledger_entries_type), ('commission'::enum_seller_ledger_entries_type)) AS t(type)
         ), lines AS (
           UPDATE order_items oi SET refunded_amount = oi.seller_amount, paid_refunded = oi.paid_amount FROM chosen c WHERE oi.id = c.item_id
         )
         UPDATE orders o SET amount_refunded = c.line_total,
                payment_status = CASE WHEN c.line_total = o.amount_paid THEN 'refunded' ELSE 'partially_refunded' END::enum_orders_payment_status
           FROM chosen c WHERE o.id = c.order_id`,
        bind,
        transaction,
      );
    });
    options.onProgress?.(done + size, options.orders);
  }
  // The per-day sales the statistics read, from the orders just written (and those before them).
  await ledgerService.rebuildSalesDays();
  // The orders' triggers left a delta per order: folded into the per-day status counts now, rather than by the next minute's job.
  await statsService.compactOrderStatusDays();
  return { orders: written, lines };
}
