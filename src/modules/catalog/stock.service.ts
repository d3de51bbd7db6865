import type { Transaction } from 'sequelize';
import { queryRows } from '../../platform/db/query';
import { RetryTransactionError } from '../../platform/db/transaction';
import { sendEmail } from '../../platform/jobs/email.job';
import { recordProductEvent } from '../webhooks';
import { PUBLIC_PRODUCT_STATUSES, type ProductStatus } from '../../models';
import { ConflictError } from '../../platform/utils/errors';
import { forgetCatalogCaches } from './catalog-cache';

/**
 * Stock is a database invariant kept on the variants: it is taken by one conditional UPDATE (a
 * variant only changes when it holds enough), and returned by one UPDATE. The same statement
 * moves the products' stock (the sum over their active variants) by the same amounts and keeps
 * their `status` in step (an active product at 0 is out_of_stock; one that gets stock back is
 * active again). Variant rows are visited in id order and product rows after them in id order,
 * so two checkouts (and a seller's variant change) lock them in the same order.
 */

export interface StockLine {
  variantId: string;
  quantity: number;
  /** The price the line was priced at: the take fails for a variant whose price changed since. */
  unitPrice: string;
}

export interface StockShortfall extends Record<string, unknown> {
  productId: string;
  variantId: string;
  name: string | null;
  requested: number;
  available: number;
}

interface TakenRow {
  id: string;
  alongside_rows: number | null;
  /** At or below its threshold with no low-stock mail sent since it was last above. */
  needs_alert: boolean;
  product_status: ProductStatus;
}

interface CurrentRow {
  id: string;
  product_id: string;
  name: string;
  stock_quantity: number;
  sellable: boolean;
}

interface AlertRow {
  id: string;
  product_id: string;
  name: string;
  title: string;
  options: Record<string, string>;
  stock_quantity: number;
  low_stock_threshold: number;
  seller_email: string;
  seller_name: string;
}

/** The 409 a checkout answers when stock is short, naming each short item. */
export function insufficientStock(shortfalls: StockShortfall[]): ConflictError {
  return new ConflictError('INSUFFICIENT_STOCK', 'Not enough stock for some items', shortfalls);
}

function sortedByVariant(lines: StockLine[]): StockLine[] {
  return [...lines].sort((a, b) => (a.variantId < b.variantId ? -1 : a.variantId > b.variantId ? 1 : 0));
}

/**
 * One statement over the lines sorted by variant id: a variant changes only when it is active,
 * holds enough and still has the price the line was priced at; its product's stock moves by what
 * was taken. The product's status comes back so that a withdrawn product fails the checkout.
 *
 * The row locks come first, in a fixed order whatever plan PostgreSQL picks: the variants' rows in
 * id order, then their products' rows in id order (a SELECT … ORDER BY … FOR NO KEY UPDATE locks
 * rows as its sorted output reaches them), and the updates wait for both (their condition reads
 * `locked_products`). Left to the updates, the order would be the plan's: on a small table a
 * sequential scan locks rows in their order on disk, which changes as rows are rewritten, and two
 * checkouts sharing products could each hold a row the other waits for (a deadlock, which
 * PostgreSQL breaks after a second).
 */
export const TAKE_STOCK = takeStockWith();

/**
 * TAKE_STOCK with more steps of the caller's in the same statement: `ctes` (named common table
 * expressions, data-modifying ones included, after the stock's own `taken`, `moved` and
 * `stock_taken`), and each row carries `alongside_rows`, the rows of the CTE named `rowsOf`. One
 * statement takes the row locks of both, so a checkout holds them for that statement and its
 * commit only.
 *
 * PostgreSQL runs a statement's CTEs in an order of its plan's choosing, and plans differ between
 * runs (a prepared statement's custom and generic plans): two checkouts could take a promotion's
 * row and the stock rows in opposite orders and deadlock. A step that locks rows therefore names
 * `(SELECT rows FROM stock_taken) > 0` in its condition: it cannot test a row, let alone lock it,
 * before the stock's rows are all locked, so every checkout locks variants, products, then the rest.
 */
export function takeStockWith(alongside?: { ctes: string; rowsOf: string }): string {
  return `WITH locked_variants AS (
  SELECT v.id, v.product_id FROM product_variants v WHERE v.id = ANY($ids::uuid[]) ORDER BY v.id FOR NO KEY UPDATE
), locked_products AS (
  SELECT p.id FROM products p WHERE p.id IN (SELECT product_id FROM locked_variants) ORDER BY p.id FOR NO KEY UPDATE
), taken AS (
  UPDATE product_variants v
     SET stock_quantity = v.stock_quantity - w.n, updated_at = now()
    FROM (SELECT * FROM unnest($ids::uuid[], $quantities::int[], $prices::numeric[]) AS u(id, n, price) ORDER BY id) w
   WHERE v.id = w.id
     AND (SELECT count(*) FROM locked_products) >= 0
     AND v.stock_quantity >= w.n
     AND v.status = 'active'
     AND v.deleted_at IS NULL
     AND v.price = w.price
  RETURNING v.id, v.product_id, w.n, (v.low_stock_alerted_at IS NULL AND v.stock_quantity <= v.low_stock_threshold) AS needs_alert
), moved AS (
  UPDATE products p
     SET stock_quantity = p.stock_quantity - t.n,
         status = CASE WHEN p.status = 'active' AND p.stock_quantity - t.n = 0 THEN 'out_of_stock'::enum_products_status ELSE p.status END,
         updated_at = now()
    FROM (SELECT product_id, sum(n)::int AS n FROM taken GROUP BY product_id ORDER BY product_id) t
   WHERE p.id = t.product_id AND p.deleted_at IS NULL
  RETURNING p.id, p.status
)${alongside ? `, stock_taken AS (SELECT count(*) AS rows FROM moved), ${alongside.ctes}` : ''}
SELECT taken.id, taken.needs_alert, moved.status::text AS product_status,
       ${alongside ? `(SELECT count(*) FROM ${alongside.rowsOf})::int` : 'NULL::int'} AS alongside_rows
  FROM taken JOIN moved ON moved.id = taken.product_id`;
}

/** Steps of the caller's run in the statement that takes the stock (see takeStockWith), with their binds. */
export interface AlongsideSteps {
  ctes: string;
  rowsOf: string;
  bind: Record<string, unknown>;
}

/**
 * Takes the stock of every line, or none: throws 409 INSUFFICIENT_STOCK naming the short items
 * (the transaction then rolls back), or RetryTransactionError when only a price or a product's
 * status moved since the lines were priced. Mails each seller whose variant fell to its
 * low-stock threshold, once per crossing. Lines hold distinct variants. `alongside` runs the
 * caller's steps in the same statement and answers how many rows their `rowsOf` had.
 */
export async function takeStock(lines: StockLine[], transaction: Transaction, alongside?: AlongsideSteps): Promise<{ alongsideRows: number }> {
  const sorted = sortedByVariant(lines);
  const taken = await queryRows<TakenRow>(
    alongside ? takeStockWith(alongside) : TAKE_STOCK,
    {
      ...alongside?.bind,
      ids: sorted.map((line) => line.variantId),
      quantities: sorted.map((line) => line.quantity),
      prices: sorted.map((line) => line.unitPrice),
    },
    transaction,
  );
  if (taken.length < sorted.length) await explainShortfall(sorted, new Set(taken.map((row) => row.id)), transaction);
  // A product withdrawn between the cart's read and the take: the checkout reads it again and refuses it.
  // out_of_stock is what the take itself may leave behind.
  if (taken.some((row) => !PUBLIC_PRODUCT_STATUSES.includes(row.product_status))) throw new RetryTransactionError('a product was withdrawn during checkout');
  transaction.afterCommit(forgetCatalogCaches);
  const low = taken.filter((row) => row.needs_alert).map((row) => row.id);
  if (low.length > 0) await alertLowStock(low, transaction);
  return { alongsideRows: taken[0]?.alongside_rows ?? 0 };
}

/** Why the take fell short: stock (409) or a price that changed under the checkout (run it again). */
async function explainShortfall(lines: StockLine[], taken: Set<string>, transaction: Transaction): Promise<never> {
  const missing = lines.filter((line) => !taken.has(line.variantId));
  const rows = await queryRows<CurrentRow>(
    `SELECT v.id, v.product_id, p.name, v.stock_quantity,
            (v.status = 'active' AND v.deleted_at IS NULL AND p.status IN ('active', 'out_of_stock') AND p.deleted_at IS NULL) AS sellable
       FROM product_variants v JOIN products p ON p.id = v.product_id
      WHERE v.id = ANY($ids::uuid[])`,
    { ids: missing.map((line) => line.variantId) },
    transaction,
  );
  const current = new Map(rows.map((row) => [row.id, row]));
  const shortfalls: StockShortfall[] = [];
  for (const line of missing) {
    const row = current.get(line.variantId);
    const available = row?.sellable ? row.stock_quantity : 0;
    if (available < line.quantity) {
      shortfalls.push({ productId: row?.product_id ?? '', variantId: line.variantId, name: row?.name ?? null, requested: line.quantity, available });
    }
  }
  if (shortfalls.length > 0) throw insufficientStock(shortfalls);
  throw new RetryTransactionError('a price changed during checkout');
}

/** One mail per variant and crossing: the mark is set here and cleared when stock rises above the threshold again. */
async function alertLowStock(variantIds: string[], transaction: Transaction): Promise<void> {
  const alerts = await queryRows<AlertRow>(
    `UPDATE product_variants v
        SET low_stock_alerted_at = now()
       FROM products p, users u
      WHERE p.id = v.product_id
        AND u.id = v.seller_id
        AND v.id = ANY($ids::uuid[])
        AND v.low_stock_alerted_at IS NULL
        AND v.stock_quantity <= v.low_stock_threshold
      RETURNING v.id, v.product_id, p.name, v.title, v.options, v.stock_quantity, v.low_stock_threshold, u.email AS seller_email, u.name AS seller_name`,
    { ids: variantIds },
    transaction,
  );
  for (const alert of alerts) {
    // A product without options has one default variant: its mail names the product alone.
    const productName = Object.keys(alert.options).length > 0 ? `${alert.name} (${alert.title})` : alert.name;
    await sendEmail(
      alert.seller_email,
      'low-stock',
      { name: alert.seller_name, productName, stockQuantity: alert.stock_quantity, lowStockThreshold: alert.low_stock_threshold, productId: alert.product_id },
      transaction,
    );
  }
  for (const productId of new Set(alerts.map((alert) => alert.product_id))) await recordProductEvent('product.low_stock', productId, transaction);
}

/**
 * Returns the stock of an order's lines to their variants (deleted ones too: the count stays
 * true), and to their products the units of the variants that are still active. A line that has
 * shipped never comes back this way (only a return brings shipped units back). Callers make sure
 * it runs once per line: it sits behind the conditional status move of a cancel or a refund
 * with restock.
 */
export async function restockOrder(orderId: string, transaction: Transaction, itemIds?: string[]): Promise<void> {
  await restock(
    `SELECT variant_id AS id, sum(quantity)::int AS n
       FROM order_items
      WHERE order_id = $orderId AND variant_id IS NOT NULL AND shipped_at IS NULL ${itemIds ? 'AND id = ANY($itemIds::uuid[])' : ''}
      GROUP BY variant_id`,
    itemIds ? { orderId, itemIds } : { orderId },
    transaction,
  );
}

/**
 * Puts returned units back on the shelf (a return received with restock): the variants' stock,
 * and their products' totals for the variants still sold.
 */
export async function restockVariants(units: Array<{ variantId: string; quantity: number }>, transaction: Transaction): Promise<void> {
  const wanted = units.filter((unit) => unit.quantity > 0);
  if (wanted.length === 0) return;
  await restock(
    'SELECT id, sum(n)::int AS n FROM unnest($ids::uuid[], $quantities::int[]) AS u(id, n) GROUP BY id',
    { ids: wanted.map((unit) => unit.variantId), quantities: wanted.map((unit) => unit.quantity) },
    transaction,
  );
}

/**
 * Adds units `(id, n)` chosen by `units` (variant id, count) to their variants, deleted ones too
 * (the count stays true), and to their products the units of the variants still active, in one
 * statement, variants in id order; a product sold out is on sale again.
 */
async function restock(units: string, bind: Record<string, unknown>, transaction: Transaction): Promise<void> {
  await queryRows(
    `WITH returned AS (
       UPDATE product_variants v
          SET stock_quantity = v.stock_quantity + r.n,
              low_stock_alerted_at = CASE WHEN v.stock_quantity + r.n > v.low_stock_threshold THEN NULL ELSE v.low_stock_alerted_at END,
              updated_at = now()
         FROM (SELECT id, n FROM (${units}) chosen ORDER BY id) r
        WHERE v.id = r.id
       RETURNING v.product_id, r.n, (v.status = 'active' AND v.deleted_at IS NULL) AS counted
     )
     UPDATE products p
        SET stock_quantity = p.stock_quantity + t.n,
            status = CASE WHEN p.status = 'out_of_stock' THEN 'active'::enum_products_status ELSE p.status END,
            updated_at = now()
       FROM (SELECT product_id, sum(n)::int AS n FROM returned WHERE counted GROUP BY product_id ORDER BY product_id) t
      WHERE p.id = t.product_id`,
    bind,
    transaction,
  );
  transaction.afterCommit(forgetCatalogCaches);
}
