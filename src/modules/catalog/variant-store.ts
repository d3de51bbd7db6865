import type { Transaction } from 'sequelize';
import { queryRows } from '../../platform/db/query';
import { PUBLIC_PRODUCT_STATUSES, type ProductOption, type ProductStatus, type UserRole, type VariantOptions, type VariantStatus } from '../../models';
import { BadRequestError, ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../../platform/utils/errors';
import { toMinor } from '../../platform/utils/money';

/**
 * The variants of a product and the product columns kept in step with them. Every write that
 * touches a product's variants runs in one transaction that first locks them (in id order) and
 * then the product row, both FOR NO KEY UPDATE: the checkout's stock statement takes variant rows
 * then product rows in the same order, so the two never deadlock, and the foreign key checks of
 * an order being placed (KEY SHARE) are not blocked at all.
 */

export const MAX_OPTIONS = 3;
export const MAX_OPTION_VALUES = 50;
export const MAX_VARIANTS = 100;
export const DEFAULT_VARIANT_TITLE = 'Default';
/** Joins an option's name and value in `products.option_values` (names and values hold no control characters). */
export const OPTION_VALUE_SEPARATOR = '\u001f';

export interface VariantInput {
  sku: string;
  title?: string;
  options: VariantOptions;
  price: string;
  comparePrice?: string | null;
  costPrice?: string | null;
  stockQuantity: number;
  lowStockThreshold: number;
  images: string[];
  status: VariantStatus;
}

export type VariantChanges = Partial<VariantInput>;

/** Who is asking, when anyone is signed in. */
export interface Viewer {
  id: string;
  role: UserRole;
}

export interface LockedProduct {
  id: string;
  seller_id: string;
  status: ProductStatus;
  options: ProductOption[];
}

export function canSeeEverything(viewer: Viewer | undefined, sellerId: string): boolean {
  return viewer !== undefined && (viewer.role === 'admin' || viewer.id === sellerId);
}

export function isListed(status: ProductStatus): boolean {
  return PUBLIC_PRODUCT_STATUSES.includes(status);
}

function mismatch(message: string, details: Record<string, unknown>[] = []): BadRequestError {
  return new BadRequestError('VARIANT_OPTIONS_MISMATCH', message, details);
}

/**
 * Every variant names exactly one value of every option of the product (400
 * VARIANT_OPTIONS_MISMATCH otherwise), and no two name the same combination (409 VARIANT_EXISTS).
 * `variants` are the live variants the product would have; `position` is the index in the request.
 */
export function checkVariantOptions(options: ProductOption[], variants: Array<{ options: VariantOptions; position?: number; id?: string }>): void {
  const byName = new Map(options.map((option) => [option.name, new Set(option.values)]));
  const seen = new Map<string, number>();
  variants.forEach((variant, index) => {
    const where = { variant: variant.id ?? variant.position ?? index };
    for (const [name, value] of Object.entries(variant.options)) {
      const values = byName.get(name);
      if (!values) throw mismatch(`The product has no option "${name}"`, [{ ...where, option: name }]);
      if (!values.has(value)) throw mismatch(`Option "${name}" has no value "${value}"`, [{ ...where, option: name, value }]);
    }
    const missing = options.filter((option) => !(option.name in variant.options)).map((option) => option.name);
    if (missing.length > 0) throw mismatch(`A variant must name a value of every option (missing: ${missing.join(', ')})`, [{ ...where, missing }]);
    const key = combinationKey(options, variant.options);
    if (seen.has(key)) throw new ConflictError('VARIANT_EXISTS', 'Two variants name the same option values', [{ ...where, sameAs: seen.get(key) }]);
    seen.set(key, index);
  });
}

function combinationKey(options: ProductOption[], values: VariantOptions): string {
  return JSON.stringify(options.map((option) => values[option.name]));
}

/** "M / Red": the values in the product's option order; "Default" for a product without options. */
export function variantTitle(options: ProductOption[], values: VariantOptions): string {
  return options.length === 0 ? DEFAULT_VARIANT_TITLE : options.map((option) => values[option.name]).join(' / ');
}

/** The unique index a statement violated (SQLSTATE 23505), from Sequelize's errors and the SQL gateway's alike. */
function violatedIndex(error: unknown): string | undefined {
  const original = (error as { original?: { code?: string; constraint?: string } } | undefined)?.original;
  return original?.code === '23505' ? original.constraint : undefined;
}

/** Maps the unique violations of a variant write to the contract's answers. */
export function variantWriteError(error: unknown): unknown {
  const constraint = violatedIndex(error);
  if (constraint) {
    if (constraint === 'product_variants_seller_id_sku_key') return new ConflictError('SKU_EXISTS', 'You already have a product or variant with this SKU');
    if (constraint === 'product_variants_product_id_options_key') return new ConflictError('VARIANT_EXISTS', 'The product already has a variant with these option values');
  }
  return error;
}

/** Two variants of one request with one SKU: refused before the database would. */
export function checkDistinctSkus(variants: Array<{ sku: string }>): void {
  const skus = new Set<string>();
  for (const [index, variant] of variants.entries()) {
    if (skus.has(variant.sku)) throw new ConflictError('SKU_EXISTS', 'Two variants have the same SKU', [{ variant: index, sku: variant.sku }]);
    skus.add(variant.sku);
  }
}

/**
 * Locks a product's variants, then the product, for a change by its seller or an admin. Another
 * seller learns nothing about drafts (404) and is refused a public product (403).
 */
export async function lockProductForChange(productId: string, viewer: Viewer, transaction: Transaction): Promise<LockedProduct> {
  await queryRows('SELECT id FROM product_variants WHERE product_id = $productId ORDER BY id FOR NO KEY UPDATE', { productId }, transaction);
  const [product] = await queryRows<LockedProduct>(
    'SELECT id, seller_id, status, options FROM products WHERE id = $productId AND deleted_at IS NULL FOR NO KEY UPDATE',
    { productId },
    transaction,
  );
  if (!product) throw new NotFoundError('Product');
  if (!canSeeEverything(viewer, product.seller_id)) {
    if (!isListed(product.status)) throw new NotFoundError('Product');
    throw new ForbiddenError('RESOURCE_ACCESS_DENIED', 'You can only change your own products');
  }
  return product;
}

/** Inserts variants of a product (positions from `firstPosition`); their ids in order. */
export async function insertVariants(
  product: { id: string; sellerId: string; options: ProductOption[] },
  variants: VariantInput[],
  firstPosition: number,
  transaction: Transaction,
): Promise<string[]> {
  const rows = await queryRows<{ id: string }>(
    `INSERT INTO product_variants (product_id, seller_id, sku, title, options, price, compare_price, cost_price, stock_quantity,
                                   low_stock_threshold, images, status, position)
     SELECT $productId, $sellerId, u.sku, u.title, u.options, u.price, u.compare_price, u.cost_price, u.stock_quantity,
            u.low_stock_threshold, u.images, u.status, u.position
       FROM jsonb_to_recordset($variants::jsonb) AS u(sku text, title text, options jsonb, price numeric, compare_price numeric, cost_price numeric,
                                                      stock_quantity int, low_stock_threshold int, images jsonb, status text, position int)
      ORDER BY u.position
     RETURNING id, position`,
    {
      productId: product.id,
      sellerId: product.sellerId,
      variants: JSON.stringify(
        variants.map((variant, index) => ({
          sku: variant.sku,
          title: variant.title ?? variantTitle(product.options, variant.options),
          options: variant.options,
          price: variant.price,
          compare_price: variant.comparePrice ?? null,
          cost_price: variant.costPrice ?? null,
          stock_quantity: variant.stockQuantity,
          low_stock_threshold: variant.lowStockThreshold,
          images: variant.images,
          status: variant.status,
          position: firstPosition + index,
        })),
      ),
    },
    transaction,
  );
  return rows.map((row) => row.id);
}

/**
 * Brings a product's columns in step with its active variants (the caller holds the locks):
 * price range, the cheapest one's compare price, stock, option values, the only variant's SKU,
 * cost price and threshold, and the active ⇄ out_of_stock status rule.
 */
export function refreshProductFromVariants(productId: string, transaction: Transaction): Promise<void> {
  return refreshProductsFromVariants([productId], transaction);
}

/**
 * The statement of refreshProductsFromVariants (exported for the benchmark, which brings the
 * products it restocks in step with it).
 */
export const REFRESH_PRODUCTS = `UPDATE products p
    SET price = a.price_min, price_max = a.price_max, compare_price = a.compare_price, stock_quantity = a.stock,
        option_values = a.option_values,
        sku = CASE WHEN a.n = 1 THEN a.sku END,
        cost_price = CASE WHEN a.n = 1 THEN a.cost_price END,
        low_stock_threshold = a.low_stock_threshold,
        status = CASE WHEN p.status = 'active' AND a.stock = 0 THEN 'out_of_stock'::enum_products_status
                      WHEN p.status = 'out_of_stock' AND a.stock > 0 THEN 'active'::enum_products_status
                      ELSE p.status END,
        updated_at = now()
   FROM (SELECT v.product_id, count(*)::int AS n, min(v.price) AS price_min, max(v.price) AS price_max, sum(v.stock_quantity)::int AS stock,
                (array_agg(v.compare_price ORDER BY v.price, v.position, v.created_at))[1] AS compare_price,
                (array_agg(v.sku ORDER BY v.position, v.created_at))[1] AS sku,
                (array_agg(v.cost_price ORDER BY v.position, v.created_at))[1] AS cost_price,
                min(v.low_stock_threshold)::int AS low_stock_threshold,
                coalesce((SELECT array_agg(DISTINCT o.key || chr(31) || o.value ORDER BY o.key || chr(31) || o.value)
                            FROM product_variants w, jsonb_each_text(w.options) o
                           WHERE w.product_id = v.product_id AND w.status = 'active' AND w.deleted_at IS NULL), '{}') AS option_values
           FROM product_variants v
          WHERE v.product_id = ANY($productIds::uuid[]) AND v.status = 'active' AND v.deleted_at IS NULL
          GROUP BY v.product_id) a
  WHERE p.id = a.product_id`;

/** refreshProductFromVariants for many products in one statement (the seed's bulk catalog). */
export async function refreshProductsFromVariants(productIds: string[], transaction?: Transaction): Promise<void> {
  await queryRows(REFRESH_PRODUCTS, { productIds }, transaction);
}

/**
 * Gives each product without a variant its default one, from its own SKU, prices, stock and
 * threshold, and sets its price range. For products written directly as rows (the seed's bulk
 * catalog, fixtures); the API creates variants with the product.
 */
export async function addDefaultVariants(productIds: string[], transaction?: Transaction): Promise<void> {
  await queryRows(
    `WITH added AS (
       INSERT INTO product_variants (product_id, seller_id, sku, title, price, compare_price, cost_price, stock_quantity, low_stock_threshold, images, created_at, updated_at)
       SELECT p.id, p.seller_id, p.sku, $title, p.price, p.compare_price, p.cost_price, p.stock_quantity, p.low_stock_threshold, '[]', p.created_at, p.created_at
         FROM products p
        WHERE p.id = ANY($ids::uuid[]) AND p.sku IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM product_variants v WHERE v.product_id = p.id)
        ORDER BY p.id
       RETURNING product_id
     )
     UPDATE products p SET price_max = p.price FROM added WHERE p.id = added.product_id`,
    { ids: productIds, title: DEFAULT_VARIANT_TITLE },
    transaction,
  );
}

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
