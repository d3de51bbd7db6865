import type { ProductDimensions, ProductOption, ProductStatus, ProductVariantAttributes } from '../../models';
import { discountPercentage, toMinor } from '../../platform/utils/money';

/**
 * Product shapes that leave the server, built from raw SQL rows (snake_case columns): a
 * whitelist, so search_vector, cost price and other internals stay in unless asked for.
 */

/** The columns every product row query selects (alias `p` for products, `u` users, `sp` seller_profiles, `c` categories). */
export interface ProductSummaryRow {
  id: string;
  seller_id: string;
  category_id: string | null;
  name: string;
  slug: string;
  short_description: string | null;
  price: string;
  price_max: string;
  compare_price: string | null;
  stock_quantity: number;
  status: ProductStatus;
  images: string[];
  tags: string[];
  average_rating: string;
  review_count: number;
  view_count: number;
  created_at: Date;
  seller_name: string | null;
  seller_store_name: string | null;
  category_name: string | null;
  category_slug: string | null;
  /** Selected for owners and admins only. */
  cost_price?: string | null;
  sku?: string | null;
  low_stock_threshold?: number;
}

/** A variant as the detail statement aggregates it (already in API names and money strings). */
export type VariantRow = Pick<
  ProductVariantAttributes,
  'id' | 'sku' | 'title' | 'options' | 'price' | 'comparePrice' | 'costPrice' | 'stockQuantity' | 'lowStockThreshold' | 'images' | 'status'
>;

export type VariantView = Omit<VariantRow, 'costPrice' | 'lowStockThreshold'> & {
  inStock: boolean;
  /** Owners and admins only. */
  costPrice?: string | null;
  lowStockThreshold?: number;
};

export interface ProductDetailRow extends ProductSummaryRow {
  description: string | null;
  sku: string | null;
  weight: string | null;
  dimensions: ProductDimensions | null;
  options: ProductOption[];
  variants: VariantRow[];
  seo_title: string | null;
  seo_description: string | null;
  updated_at: Date;
}

export interface SellerSummary {
  id: string;
  name: string | null;
  storeName: string | null;
}

export interface CategorySummary {
  id: string;
  name: string;
  slug: string;
}

export interface ProductSummaryView {
  id: string;
  name: string;
  slug: string;
  shortDescription: string | null;
  /** The lowest active variant price (priceMin), with priceMax beside it. */
  price: string;
  priceMin: string;
  priceMax: string;
  comparePrice: string | null;
  discountPercentage: number;
  inStock: boolean;
  stockQuantity: number;
  status: ProductStatus;
  images: string[];
  tags: string[];
  averageRating: number;
  reviewCount: number;
  viewCount: number;
  createdAt: Date;
  seller: SellerSummary;
  category: CategorySummary | null;
  /** Owners and admins only; the only variant's (null with several). */
  sku?: string | null;
  costPrice?: string | null;
  lowStockThreshold?: number;
}

export interface ProductDetailView extends ProductSummaryView {
  description: string | null;
  sku?: string | null;
  weight: string | null;
  dimensions: ProductDimensions | null;
  options: ProductOption[];
  /** Active variants; owners and admins see inactive ones too. */
  variants: VariantView[];
  seoTitle: string | null;
  seoDescription: string | null;
  updatedAt: Date;
}

/** SQL select list of ProductSummaryRow; `private` adds the owner's columns. */
export function summaryColumns(options: { private?: boolean } = {}): string {
  const columns = [
    'p.id',
    'p.seller_id',
    'p.category_id',
    'p.name',
    'p.slug',
    'p.short_description',
    'p.price',
    'p.price_max',
    'p.compare_price',
    'p.stock_quantity',
    'p.status',
    'p.images',
    'p.tags',
    'p.average_rating',
    'p.review_count',
    'p.view_count',
    'p.created_at',
  ];
  if (options.private) columns.push('p.sku', 'p.cost_price', 'p.low_stock_threshold');
  return columns.join(', ');
}

/** The seller and category columns of a row; joins `u`, `sp`, `c` on the product alias given. */
export function summaryJoins(product: string): { columns: string; joins: string } {
  return {
    columns: 'u.name AS seller_name, sp.store_name AS seller_store_name, c.name AS category_name, c.slug AS category_slug',
    joins: [
      `LEFT JOIN users u ON u.id = ${product}.seller_id`,
      `LEFT JOIN seller_profiles sp ON sp.user_id = ${product}.seller_id`,
      `LEFT JOIN categories c ON c.id = ${product}.category_id`,
    ].join('\n'),
  };
}

export function serializeProductSummary(row: ProductSummaryRow): ProductSummaryView {
  const view: ProductSummaryView = {
    id: row.id,
    name: row.name,
    slug: row.slug,
    shortDescription: row.short_description,
    price: row.price,
    priceMin: row.price,
    priceMax: row.price_max,
    comparePrice: row.compare_price,
    discountPercentage: discountPercentage(toMinor(row.price), row.compare_price === null ? null : toMinor(row.compare_price)),
    inStock: row.stock_quantity > 0,
    stockQuantity: row.stock_quantity,
    status: row.status,
    images: row.images,
    tags: row.tags,
    averageRating: Number(row.average_rating),
    reviewCount: row.review_count,
    viewCount: row.view_count,
    createdAt: row.created_at,
    seller: { id: row.seller_id, name: row.seller_name, storeName: row.seller_store_name },
    category: row.category_id && row.category_name !== null ? { id: row.category_id, name: row.category_name, slug: row.category_slug ?? '' } : null,
  };
  if (row.sku !== undefined) view.sku = row.sku;
  if (row.cost_price !== undefined) view.costPrice = row.cost_price;
  if (row.low_stock_threshold !== undefined) view.lowStockThreshold = row.low_stock_threshold;
  return view;
}

/** `private` (owner or admin) keeps costPrice and lowStockThreshold; otherwise they are dropped. */
export function serializeVariant(row: VariantRow, options: { private: boolean }): VariantView {
  const view: VariantView = {
    id: row.id,
    sku: row.sku,
    title: row.title,
    options: row.options,
    price: row.price,
    comparePrice: row.comparePrice,
    stockQuantity: row.stockQuantity,
    inStock: row.status === 'active' && row.stockQuantity > 0,
    images: row.images,
    status: row.status,
  };
  if (options.private) {
    view.costPrice = row.costPrice;
    view.lowStockThreshold = row.lowStockThreshold;
  }
  return view;
}

/** `private` (owner or admin) keeps costPrice, lowStockThreshold and inactive variants; otherwise they are dropped. */
export function serializeProductDetail(row: ProductDetailRow, options: { private: boolean }): ProductDetailView {
  const view: ProductDetailView = {
    ...serializeProductSummary(row),
    description: row.description,
    sku: row.sku,
    weight: row.weight,
    dimensions: row.dimensions,
    options: row.options,
    variants: row.variants.filter((variant) => options.private || variant.status === 'active').map((variant) => serializeVariant(variant, options)),
    seoTitle: row.seo_title,
    seoDescription: row.seo_description,
    updatedAt: row.updated_at,
  };
  if (!options.private) {
    delete view.costPrice;
    delete view.lowStockThreshold;
  }
  return view;
}
