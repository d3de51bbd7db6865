import type { Transaction } from 'sequelize';
import { queryRows } from '../../platform/db/query';
import type { VariantOptions, VariantStatus } from '../../models';
import { ValidationError } from '../../platform/utils/errors';
import { toMinor } from '../../platform/utils/money';
import type { VariantChanges } from './variant-store';

/** A live (not deleted) variant as the variant writes read it, under the product's locks. */
export interface LiveVariantRow {
  id: string;
  options: VariantOptions;
  title: string;
  price: string;
  compare_price: string | null;
  status: VariantStatus;
  position: number;
}

export async function liveVariants(productId: string, transaction: Transaction): Promise<LiveVariantRow[]> {
  return queryRows<LiveVariantRow>(
    `SELECT id, options, title, price, compare_price, status, position FROM product_variants
      WHERE product_id = $productId AND deleted_at IS NULL ORDER BY position, created_at, id`,
    { productId },
    transaction,
  );
}

const COLUMNS: Record<keyof VariantChanges, string> = {
  sku: 'sku',
  title: 'title',
  options: 'options',
  price: 'price',
  comparePrice: 'compare_price',
  costPrice: 'cost_price',
  stockQuantity: 'stock_quantity',
  lowStockThreshold: 'low_stock_threshold',
  images: 'images',
  status: 'status',
};

/**
 * Writes the changes of one variant (the caller holds the product's locks and refreshes the
 * product afterwards). The compare price must stay above the resulting price; stock back above
 * the threshold re-arms the low-stock mail.
 */
export async function changeVariant(variant: LiveVariantRow, changes: VariantChanges, transaction: Transaction): Promise<void> {
  const price = changes.price ?? variant.price;
  const comparePrice = changes.comparePrice === undefined ? variant.compare_price : changes.comparePrice;
  if (comparePrice !== null && toMinor(comparePrice) <= toMinor(price)) {
    throw new ValidationError([{ field: 'comparePrice', message: 'comparePrice must be greater than price' }]);
  }
  const bind: Record<string, unknown> = { id: variant.id, newStock: changes.stockQuantity ?? null, newThreshold: changes.lowStockThreshold ?? null };
  const sets: string[] = [];
  for (const [field, column] of Object.entries(COLUMNS) as Array<[keyof VariantChanges, string]>) {
    const value = changes[field];
    if (value === undefined) continue;
    bind[field] = field === 'options' || field === 'images' ? JSON.stringify(value) : value;
    sets.push(`${column} = $${field}${field === 'options' || field === 'images' ? '::jsonb' : ''}`);
  }
  if (sets.length === 0) return;
  await queryRows(
    `UPDATE product_variants
        SET ${sets.join(', ')},
            low_stock_alerted_at = CASE WHEN coalesce($newStock::int, stock_quantity) > coalesce($newThreshold::int, low_stock_threshold)
                                        THEN NULL ELSE low_stock_alerted_at END,
            updated_at = now()
      WHERE id = $id`,
    bind,
    transaction,
  );
}
