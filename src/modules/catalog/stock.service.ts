import type { Transaction } from 'sequelize';
import { queryRows } from '../../platform/db/query';
import { RetryTransactionError } from '../../platform/db/transaction';
import { sendEmail } from '../../platform/jobs/email.job';
import { ConflictError } from '../../platform/utils/errors';
import { forgetCatalogCaches } from './catalog-cache';

/**
 * Stock is a database invariant: it is taken by one conditional UPDATE (a row only changes when
 * it holds enough), and returned by one UPDATE, each keeping `status` in step in the same
 * statement (an active product at 0 is out_of_stock; one that gets stock back is active again).
 * Rows are visited in product id order, so two checkouts of the same products lock them in the
 * same order.
 */

export interface StockLine {
  productId: string;
  quantity: number;
  /** The price the line was priced at: the take fails for a product whose price changed since. */
  unitPrice: string;
}

export interface StockShortfall extends Record<string, unknown> {
  productId: string;
  name: string | null;
  requested: number;
  available: number;
}

interface TakenRow {
  id: string;
  /** At or below its threshold with no low-stock mail sent since it was last above. */
  needs_alert: boolean;
}

interface CurrentRow {
  id: string;
  name: string;
  stock_quantity: number;
  status: string;
  deleted_at: Date | null;
  price: string;
}

interface AlertRow {
  id: string;
  name: string;
  stock_quantity: number;
  low_stock_threshold: number;
  seller_email: string;
  seller_name: string;
}

/** The 409 a checkout answers when stock is short, naming each short item. */
export function insufficientStock(shortfalls: StockShortfall[]): ConflictError {
  return new ConflictError('INSUFFICIENT_STOCK', 'Not enough stock for some items', shortfalls);
}

function sortedByProduct(lines: StockLine[]): StockLine[] {
  return [...lines].sort((a, b) => (a.productId < b.productId ? -1 : a.productId > b.productId ? 1 : 0));
}

/** One conditional UPDATE over the lines sorted by product id: a row changes only when it holds enough, at the price the line was priced at. */
export const TAKE_STOCK = `UPDATE products p
    SET stock_quantity = p.stock_quantity - v.n,
        status = CASE WHEN p.stock_quantity - v.n = 0 THEN 'out_of_stock'::enum_products_status ELSE p.status END,
        updated_at = now()
   FROM (SELECT * FROM unnest($ids::uuid[], $quantities::int[], $prices::numeric[]) AS u(id, n, price) ORDER BY id) v
  WHERE p.id = v.id
    AND p.stock_quantity >= v.n
    AND p.status = 'active'
    AND p.deleted_at IS NULL
    AND p.price = v.price
  RETURNING p.id, (p.low_stock_alerted_at IS NULL AND p.stock_quantity <= p.low_stock_threshold) AS needs_alert`;

/**
 * Takes the stock of every line, or none: throws 409 INSUFFICIENT_STOCK naming the short items
 * (the transaction then rolls back), or RetryTransactionError when only a price moved since the
 * lines were priced. Mails each seller whose product fell to its low-stock threshold, once per
 * crossing. Lines hold distinct products.
 */
export async function takeStock(lines: StockLine[], transaction: Transaction): Promise<void> {
  const sorted = sortedByProduct(lines);
  const taken = await queryRows<TakenRow>(
    TAKE_STOCK,
    { ids: sorted.map((line) => line.productId), quantities: sorted.map((line) => line.quantity), prices: sorted.map((line) => line.unitPrice) },
    transaction,
  );
  if (taken.length < sorted.length) await explainShortfall(sorted, new Set(taken.map((row) => row.id)), transaction);
  transaction.afterCommit(forgetCatalogCaches);
  const low = taken.filter((row) => row.needs_alert).map((row) => row.id);
  if (low.length > 0) await alertLowStock(low, transaction);
}

/** Why the take fell short: stock (409) or a price that changed under the checkout (run it again). */
async function explainShortfall(lines: StockLine[], taken: Set<string>, transaction: Transaction): Promise<never> {
  const missing = lines.filter((line) => !taken.has(line.productId));
  const rows = await queryRows<CurrentRow>(
    `SELECT id, name, stock_quantity, status, deleted_at, price FROM products WHERE id = ANY($ids::uuid[])`,
    { ids: missing.map((line) => line.productId) },
    transaction,
  );
  const current = new Map(rows.map((row) => [row.id, row]));
  const shortfalls: StockShortfall[] = [];
  for (const line of missing) {
    const row = current.get(line.productId);
    const sellable = row !== undefined && row.status !== 'draft' && row.status !== 'inactive' && row.deleted_at === null;
    const available = sellable ? row.stock_quantity : 0;
    if (available < line.quantity) shortfalls.push({ productId: line.productId, name: row?.name ?? null, requested: line.quantity, available });
  }
  if (shortfalls.length > 0) throw insufficientStock(shortfalls);
  throw new RetryTransactionError('a price changed during checkout');
}

/** One mail per product and crossing: the mark is set here and cleared when stock rises above the threshold again. */
async function alertLowStock(productIds: string[], transaction: Transaction): Promise<void> {
  const alerts = await queryRows<AlertRow>(
    `UPDATE products p
        SET low_stock_alerted_at = now()
       FROM users u
      WHERE u.id = p.seller_id
        AND p.id = ANY($ids::uuid[])
        AND p.low_stock_alerted_at IS NULL
        AND p.stock_quantity <= p.low_stock_threshold
      RETURNING p.id, p.name, p.stock_quantity, p.low_stock_threshold, u.email AS seller_email, u.name AS seller_name`,
    { ids: productIds },
    transaction,
  );
  for (const alert of alerts) {
    await sendEmail(
      alert.seller_email,
      'low-stock',
      { name: alert.seller_name, productName: alert.name, stockQuantity: alert.stock_quantity, lowStockThreshold: alert.low_stock_threshold, productId: alert.id },
      transaction,
    );
  }
}

/**
 * Returns the stock of an order's lines to their products (deleted products too: a restored
 * product keeps a true count). A line that has shipped never comes back this way (only a return
 * brings shipped units back). Callers make sure it runs once per line: it sits behind the
 * conditional status move of a cancel or a refund with restock.
 */
export async function restockOrder(orderId: string, transaction: Transaction, itemIds?: string[]): Promise<void> {
  await queryRows(
    `UPDATE products p
        SET stock_quantity = p.stock_quantity + v.n,
            status = CASE WHEN p.status = 'out_of_stock' THEN 'active'::enum_products_status ELSE p.status END,
            low_stock_alerted_at = CASE WHEN p.stock_quantity + v.n > p.low_stock_threshold THEN NULL ELSE p.low_stock_alerted_at END,
            updated_at = now()
       FROM (SELECT product_id AS id, sum(quantity)::int AS n
               FROM order_items
              WHERE order_id = $orderId AND product_id IS NOT NULL AND shipped_at IS NULL ${itemIds ? 'AND id = ANY($itemIds::uuid[])' : ''}
              GROUP BY product_id
              ORDER BY product_id) v
      WHERE p.id = v.id`,
    itemIds ? { orderId, itemIds } : { orderId },
    transaction,
  );
  transaction.afterCommit(forgetCatalogCaches);
}
