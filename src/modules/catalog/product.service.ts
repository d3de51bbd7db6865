import { ForeignKeyConstraintError, type Transaction } from 'sequelize';
import { queryRows } from '../../platform/db/query';
import { queryReadRows } from '../../platform/db/replicas';
import { inTransaction } from '../../platform/db/transaction';
import { recordProductEvent } from '../webhooks';
import { forgetCatalogCaches } from './catalog-cache';
import { cachedTotal, rememberTotal, totalsGeneration } from './listing-totals';
import { isUuid, Product, SellerProfile, User, type ProductDimensions, type ProductOption, type ProductStatus, type VariantOptions } from '../../models';
import { BadRequestError, NotFoundError, ValidationError } from '../../platform/utils/errors';
import { logger } from '../../platform/utils/logger';
import { toMinor } from '../../platform/utils/money';
import { offsetOf, paginationOf, type PageQuery, type Pagination } from '../../platform/utils/pagination';
import { withUniqueSlug } from '../../platform/db/unique-slug';
import {
  serializeProductDetail,
  serializeProductSummary,
  summaryColumns,
  summaryJoins,
  type ProductDetailRow,
  type ProductDetailView,
  type ProductSummaryRow,
  type ProductSummaryView,
} from './product.serializer';
import { recordView } from './view-counter.service';
import {
  canSeeEverything,
  changeVariant,
  checkDistinctSkus,
  checkVariantOptions,
  insertVariants,
  isListed,
  liveVariants,
  lockProductForChange,
  OPTION_VALUE_SEPARATOR,
  refreshProductFromVariants,
  variantWriteError,
  type VariantInput,
  type Viewer,
} from './variant-store';

export type { Viewer } from './variant-store';

/**
 * What the public catalog lists: active products and active ones that sold out (out_of_stock),
 * never deleted ones. Written exactly as the predicate of the products_listed_* partial indexes
 * (migration 0002) so that the planner can use them.
 */
export const LISTED_PRODUCTS = `p.status IN ('active', 'out_of_stock') AND p.deleted_at IS NULL`;

export type ListSortBy = 'createdAt' | 'price' | 'name' | 'averageRating' | 'viewCount';
export type SearchSortBy = 'relevance' | 'price_low' | 'price_high' | 'rating' | 'newest';
export type SortOrder = 'asc' | 'desc';

export interface CatalogFilters {
  /** Category id or slug; its descendants are included. */
  category?: string;
  search?: string;
  minPrice?: string;
  maxPrice?: string;
  sellerId?: string;
  tags?: string[];
  inStock?: boolean;
  /** Products with an active variant having all of these option values. */
  options?: VariantOptions;
}

export interface ProductListQuery extends PageQuery, CatalogFilters {
  sortBy: ListSortBy;
  sortOrder?: SortOrder;
}

export interface ProductSearchQuery extends PageQuery {
  q: string;
  category?: string;
  minPrice?: string;
  maxPrice?: string;
  options?: VariantOptions;
  sortBy: SearchSortBy;
}

/** The filters the facets are counted under. */
export type FacetQuery = Pick<CatalogFilters, 'category' | 'search' | 'minPrice' | 'maxPrice' | 'sellerId'>;

export interface Facets {
  options: Record<string, Array<{ value: string; count: number }>>;
  price: { min: string | null; max: string | null };
  categories: Array<{ id: string; name: string; slug: string; count: number }>;
}

export interface SellerProductQuery extends PageQuery {
  status?: ProductStatus;
}

export interface ProductInput {
  name: string;
  description?: string | null;
  shortDescription?: string | null;
  /** The default variant's, for a product created without `variants`. */
  price?: string;
  comparePrice?: string | null;
  costPrice?: string | null;
  sku?: string;
  stockQuantity?: number;
  lowStockThreshold?: number;
  options?: ProductOption[];
  variants?: VariantInput[];
  weight?: number | null;
  dimensions?: ProductDimensions | null;
  images: string[];
  status: 'draft' | 'active' | 'inactive';
  categoryId?: string | null;
  tags: string[];
  seoTitle?: string | null;
  seoDescription?: string | null;
  /** Admins only: the approved seller who owns the product. */
  sellerId?: string;
}

export type ProductChanges = Partial<Omit<ProductInput, 'sellerId' | 'variants'>>;

/** The product-level fields that belong to a product's only variant. */
const VARIANT_FIELDS = ['price', 'comparePrice', 'costPrice', 'sku', 'stockQuantity', 'lowStockThreshold'] as const;

export interface ProductPage {
  products: ProductSummaryView[];
  pagination: Pagination;
}

/** A statement and its bound values: every input travels as a bind parameter, never in the text. */
export interface CatalogStatement {
  sql: string;
  bind: Record<string, unknown>;
  /** The same page without counting, for when the total is known; and what identifies that total. */
  pageOnly?: { sql: string; totalKey: string };
}

interface SortKey {
  /** Expression on the products row `p`. */
  expression: string;
  /** Its name in the selected page, to restore the order after the joins. */
  column: string;
  direction: 'ASC' | 'DESC';
}

const LIST_SORT_COLUMNS: Record<ListSortBy, { column: string; defaultOrder: SortOrder }> = {
  createdAt: { column: 'created_at', defaultOrder: 'desc' },
  price: { column: 'price', defaultOrder: 'asc' },
  name: { column: 'name', defaultOrder: 'asc' },
  averageRating: { column: 'average_rating', defaultOrder: 'desc' },
  viewCount: { column: 'view_count', defaultOrder: 'desc' },
};

function sortKey(column: string, direction: 'ASC' | 'DESC'): SortKey {
  return { expression: `p.${column}`, column, direction };
}

/** Sort keys end with the id in the same direction: pages are stable, and the listed indexes end with id. */
function listSort(sortBy: ListSortBy, sortOrder?: SortOrder): SortKey[] {
  const { column, defaultOrder } = LIST_SORT_COLUMNS[sortBy];
  const direction = (sortOrder ?? defaultOrder) === 'asc' ? 'ASC' : 'DESC';
  return [sortKey(column, direction), sortKey('id', direction)];
}

/** Reduces the last word of a query to what can safely become a prefix lexeme ("Head!" → "head"). */
function prefixWord(text: string): { rest: string; prefix: string | undefined } {
  const words = text.trim().split(/\s+/);
  const last = words[words.length - 1] ?? '';
  // websearch syntax: a negated or quoted last word, or a trailing OR, must keep its meaning.
  if (last.startsWith('-') || last.includes('"') || /^or$/i.test(last)) return { rest: text, prefix: undefined };
  const prefix = last
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '')
    .slice(0, 100);
  return { rest: words.slice(0, -1).join(' '), prefix: prefix || undefined };
}

/**
 * The tsqueries of a search text. `match` finds the rows: the websearch reading of the text
 * (quotes, -word, or), with its last word also taken as a prefix so that "wireless head" finds
 * "wireless headphones". `rank` orders them: it adds the exact reading, so a whole-word match
 * ranks above a mere prefix match. Binds `q`, `qRest` and `qPrefix`.
 */
function tsQueries(text: string, bind: Record<string, unknown>): { match: string; rank: string } {
  bind.q = text;
  const whole = `websearch_to_tsquery('english', $q::text)`;
  const { rest, prefix } = prefixWord(text);
  if (!prefix) return { match: whole, rank: whole };
  bind.qRest = rest;
  bind.qPrefix = prefix;
  const prefixed = `(websearch_to_tsquery('english', $qRest::text) && to_tsquery('english', $qPrefix::text || ':*'))`;
  // Without an "or" the prefixed query already covers the exact one; OR-ing them again would
  // only double the planner's row estimate (and turn index scans into sequential ones).
  const match = /(^|\s)or(\s|$)/i.test(text) ? `(${whole} || ${prefixed})` : prefixed;
  return { match, rank: `(${whole} || ${prefixed})` };
}

interface WhereParts {
  ctes: string[];
  conditions: string[];
  /** The relevance expression, when a search text is given. */
  rank?: string;
}

function categoryTree(category: string, bind: Record<string, unknown>): string {
  bind.category = category;
  const root = isUuid(category) ? 'id = $category::uuid' : 'slug = $category::text';
  // UNION, not UNION ALL: the walk ends even if a cycle ever slipped into the tree.
  return `category_tree AS (
  SELECT id FROM categories WHERE ${root}
  UNION
  SELECT c.id FROM categories c JOIN category_tree t ON c.parent_id = t.id
)`;
}

function filterParts(filters: CatalogFilters, bind: Record<string, unknown>): WhereParts {
  const parts: WhereParts = { ctes: [], conditions: [LISTED_PRODUCTS] };
  if (filters.category) {
    parts.ctes.push(categoryTree(filters.category, bind));
    parts.conditions.push('p.category_id IN (SELECT id FROM category_tree)');
  }
  if (filters.search) {
    const { match, rank } = tsQueries(filters.search, bind);
    // An empty tsquery (only stop words or symbols) matches nothing; saying so spares PostgreSQL's notice.
    parts.conditions.push(`numnode(${match}) > 0`, `p.search_vector @@ ${match}`);
    parts.rank = `ts_rank(p.search_vector, ${rank})`;
  }
  if (filters.minPrice !== undefined) {
    bind.minPrice = filters.minPrice;
    parts.conditions.push('p.price >= $minPrice::numeric');
  }
  if (filters.maxPrice !== undefined) {
    bind.maxPrice = filters.maxPrice;
    parts.conditions.push('p.price <= $maxPrice::numeric');
  }
  if (filters.sellerId) {
    bind.sellerId = filters.sellerId;
    parts.conditions.push('p.seller_id = $sellerId::uuid');
  }
  if (filters.tags && filters.tags.length > 0) {
    bind.tags = JSON.stringify(filters.tags);
    parts.conditions.push('p.tags @> $tags::jsonb');
  }
  if (filters.inStock === true) parts.conditions.push('p.stock_quantity > 0');
  if (filters.inStock === false) parts.conditions.push('p.stock_quantity = 0');
  const options = Object.entries(filters.options ?? {});
  if (options.length > 0) {
    // The product's option values (GIN index) say whether some active variant has each value;
    // whether one variant has them all is asked of the variants only when there are several.
    bind.optionValues = options.map(([name, value]) => `${name}${OPTION_VALUE_SEPARATOR}${value}`);
    parts.conditions.push('p.option_values @> $optionValues::text[]');
    if (options.length > 1) {
      bind.optionFilter = JSON.stringify(filters.options);
      parts.conditions.push(
        `EXISTS (SELECT 1 FROM product_variants v WHERE v.product_id = p.id AND v.status = 'active' AND v.deleted_at IS NULL AND v.options @> $optionFilter::jsonb)`,
      );
    }
  }
  return parts;
}

/** Page sizes whose unfiltered listing writes its LIMIT into the text (see pageStatement): the usual ones. */
const KEPT_PLAN_PAGE_SIZES = new Set([10, 20, 25, 50, 100]);

/**
 * One statement for a page and its total: the count and the page are two subqueries over the
 * same filters (each on its own index path; `count(*) OVER ()` would read and sort every
 * matching row before the first one is returned), and the count row is always there, so a
 * page past the end still carries the total.
 */
function pageStatement(
  parts: WhereParts,
  sort: SortKey[],
  page: PageQuery,
  bind: Record<string, unknown>,
  options: { private?: boolean; rank?: string; keptPlan?: boolean } = {},
): CatalogStatement {
  // The listing without filters, at a usual page size, has its page size written into the text.
  // With LIMIT a parameter, PostgreSQL's generic plan assumes a tenth of the matching rows is
  // wanted and costs more than any custom plan, so each execution was planned anew. With a known
  // LIMIT the generic plan is the custom one (the page read in index order, whatever the offset),
  // and PostgreSQL keeps it once the custom plans it made cost as much on average: when deep pages
  // are asked for. A client paging from the first pages gets custom plans, as before.
  // Filtered pages keep the LIMIT bound, and so a plan made for their values: a generic plan
  // would guess how many products a category or a price range holds, and guessed worse. Other
  // page sizes stay bound too: each text is one more prepared statement on every connection
  // (query.ts keeps a bounded number), so at most KEPT_PLAN_PAGE_SIZES × 10 sorts × 2 texts.
  const keptPlan = options.keptPlan === true && KEPT_PLAN_PAGE_SIZES.has(page.limit);
  const limit = keptPlan ? String(page.limit) : '$limit::int';
  if (!keptPlan) bind.limit = page.limit;
  bind.offset = offsetOf(page);
  const where = parts.conditions.join('\n  AND ');
  // Deferred join: the page is chosen from the index alone (ids and sort keys), and only its rows
  // are read from the table. A deep OFFSET then skips index entries, not whole rows.
  const extra = options.rank ? `, ${options.rank} AS rank` : '';
  const joined = summaryJoins('r');
  const ctes = parts.ctes.length > 0 ? `WITH RECURSIVE ${parts.ctes.join(',\n')}\n` : '';
  const counted = (count: string) => `${ctes}SELECT t.total, r.*, ${joined.columns}
FROM (${count}) t
LEFT JOIN (
  SELECT ${summaryColumns({ private: options.private })}${options.rank ? ', k.rank' : ''}
  FROM (
    SELECT p.id${extra}
    FROM products p
    WHERE ${where}
    ORDER BY ${sort.map((key) => `${key.expression} ${key.direction}`).join(', ')}
    LIMIT ${limit} OFFSET $offset::int
  ) k
  JOIN products p ON p.id = k.id
) r ON true
${joined.joins}
ORDER BY ${sort.map((key) => `r.${key.column} ${key.direction}`).join(', ')}`;
  const countSql = `SELECT count(*)::int AS total FROM products p WHERE ${where}`;
  const { limit: _limit, offset: _offset, ...filterValues } = bind;
  return {
    sql: counted(countSql),
    bind,
    pageOnly: { sql: counted('SELECT NULL::int AS total'), totalKey: `${ctes}${countSql}\n${JSON.stringify(filterValues)}` },
  };
}

/** The statement GET /api/products runs (exported so that its plan can be checked). */
export function buildListStatement(query: ProductListQuery): CatalogStatement {
  const bind: Record<string, unknown> = {};
  const parts = filterParts(query, bind);
  const unfiltered = parts.ctes.length === 0 && parts.conditions.length === 1;
  return pageStatement(parts, listSort(query.sortBy, query.sortOrder), query, bind, { keptPlan: unfiltered });
}

/** The statement GET /api/products/search runs (exported so that its plan can be checked). */
export function buildSearchStatement(query: ProductSearchQuery): CatalogStatement {
  const bind: Record<string, unknown> = {};
  const parts = filterParts({ category: query.category, minPrice: query.minPrice, maxPrice: query.maxPrice, options: query.options, search: query.q }, bind);
  const rank = parts.rank!;
  const sorts: Record<SearchSortBy, SortKey[]> = {
    relevance: [{ expression: rank, column: 'rank', direction: 'DESC' }, sortKey('average_rating', 'DESC'), sortKey('id', 'DESC')],
    price_low: [sortKey('price', 'ASC'), sortKey('id', 'ASC')],
    price_high: [sortKey('price', 'DESC'), sortKey('id', 'DESC')],
    rating: [sortKey('average_rating', 'DESC'), sortKey('id', 'DESC')],
    newest: [sortKey('created_at', 'DESC'), sortKey('id', 'DESC')],
  };
  return pageStatement(parts, sorts[query.sortBy], query, bind, { rank: query.sortBy === 'relevance' ? rank : undefined });
}

/** The statement GET /api/products/:idOrSlug runs (exported for the benchmark's bare server). */
export function buildDetailStatement(where: { id?: string; slug?: string }): CatalogStatement {
  return { sql: where.id ? DETAIL_BY_ID : DETAIL_BY_SLUG, bind: { key: where.id ?? where.slug } };
}

/**
 * The facets of the listed products matching the filters, in one statement over the product
 * rows (option values are on the product, GIN-indexed): each option value with the number of
 * products having an active variant with it, the price range, and the products per category.
 */
export function buildFacetsStatement(query: FacetQuery): CatalogStatement {
  const bind: Record<string, unknown> = {};
  const parts = filterParts(query, bind);
  const ctes = [...parts.ctes, `matched AS MATERIALIZED (
  SELECT p.price, p.price_max, p.category_id, p.option_values FROM products p WHERE ${parts.conditions.join('\n  AND ')}
)`];
  return {
    sql: `WITH RECURSIVE ${ctes.join(',\n')}
SELECT 'option' AS kind, x.value AS key, count(*)::int AS count, NULL::text AS name, NULL::text AS slug, NULL::numeric AS min, NULL::numeric AS max
  FROM matched, unnest(matched.option_values) AS x(value)
 GROUP BY x.value
UNION ALL
SELECT 'category', c.id::text, m.count, c.name, c.slug, NULL, NULL
  FROM (SELECT category_id, count(*)::int AS count FROM matched WHERE category_id IS NOT NULL GROUP BY category_id) m
  JOIN categories c ON c.id = m.category_id
UNION ALL
SELECT 'price', NULL, count(*)::int, NULL, NULL, min(price), max(price_max) FROM matched`,
    bind,
  };
}

interface FacetRow {
  kind: 'option' | 'category' | 'price';
  key: string | null;
  count: number;
  name: string | null;
  slug: string | null;
  min: string | null;
  max: string | null;
}

function facetsOf(rows: FacetRow[]): Facets {
  const facets: Facets = { options: {}, price: { min: null, max: null }, categories: [] };
  for (const row of rows) {
    if (row.kind === 'price') facets.price = { min: row.min, max: row.max };
    else if (row.kind === 'category') facets.categories.push({ id: row.key!, name: row.name!, slug: row.slug!, count: row.count });
    else {
      const [name, value] = row.key!.split(OPTION_VALUE_SEPARATOR);
      (facets.options[name] ??= []).push({ value, count: row.count });
    }
  }
  const byCount = <T extends { count: number }>(key: (item: T) => string) => (a: T, b: T) => b.count - a.count || key(a).localeCompare(key(b));
  for (const values of Object.values(facets.options)) values.sort(byCount((item) => item.value));
  facets.categories.sort(byCount((item) => item.name));
  return facets;
}

async function runPage(statement: CatalogStatement, page: PageQuery): Promise<ProductPage> {
  const known = statement.pageOnly ? cachedTotal(statement.pageOnly.totalKey) : undefined;
  if (known !== undefined && statement.pageOnly) {
    const rows = await queryReadRows<ProductSummaryRow>(statement.pageOnly.sql, statement.bind);
    return { products: rows.filter((row) => row.id !== null).map(serializeProductSummary), pagination: paginationOf(page, known) };
  }
  const since = totalsGeneration();
  const rows = await queryReadRows<ProductSummaryRow & { total: number }>(statement.sql, statement.bind);
  const total = rows[0]?.total ?? 0;
  if (statement.pageOnly) rememberTotal(statement.pageOnly.totalKey, total, since);
  return {
    products: rows.filter((row) => row.id !== null).map(serializeProductSummary),
    pagination: paginationOf(page, total),
  };
}

const DETAIL_COLUMNS = `${summaryColumns({ private: true })}, p.description, p.weight, p.dimensions, p.options, p.seo_title, p.seo_description, p.updated_at`;

/** The live variants of the product `p`, in their order, as one JSON array (the serializer drops what a viewer may not see). */
const VARIANTS_COLUMN = `(SELECT coalesce(jsonb_agg(jsonb_build_object(
    'id', v.id, 'sku', v.sku, 'title', v.title, 'options', v.options, 'price', v.price::text, 'comparePrice', v.compare_price::text,
    'costPrice', v.cost_price::text, 'stockQuantity', v.stock_quantity, 'lowStockThreshold', v.low_stock_threshold, 'images', v.images,
    'status', v.status) ORDER BY v.position, v.created_at, v.id), '[]')
   FROM product_variants v WHERE v.product_id = p.id AND v.deleted_at IS NULL) AS variants`;

function detailStatement(condition: string): string {
  const joined = summaryJoins('p');
  return `SELECT ${DETAIL_COLUMNS}, ${joined.columns}, ${VARIANTS_COLUMN}
       FROM products p
       ${joined.joins}
       WHERE ${condition} AND p.deleted_at IS NULL`;
}

// Built once: the SQL gateway finds a statement's positional form by its text, and a text made
// anew for each request is a new string to hash each time.
const DETAIL_BY_ID = detailStatement('p.id = $key::uuid');
const DETAIL_BY_SLUG = detailStatement('p.slug = $key::text');

/** Maps the unique and foreign key violations of a product write to the contract's answers. */
function productWriteError(error: unknown): unknown {
  if (error instanceof ForeignKeyConstraintError) {
    return new ValidationError([{ field: 'categoryId', message: 'categoryId does not name a category' }]);
  }
  return variantWriteError(error);
}

export class ProductService {
  /** A page of listed products (active or out of stock, not deleted) and the total, in one statement. */
  list(query: ProductListQuery): Promise<ProductPage> {
    return runPage(buildListStatement(query), query);
  }

  /**
   * Full-text search of listed products, ranked by relevance then rating by default. A query
   * with no searchable word (only symbols or stop words) finds nothing, without an error.
   */
  async search(query: ProductSearchQuery): Promise<ProductPage & { query: string }> {
    return { ...(await runPage(buildSearchStatement(query), query)), query: query.q };
  }

  /** Option value counts, price range and category counts of the listed products matching the filters. */
  async facets(query: FacetQuery): Promise<Facets> {
    const statement = buildFacetsStatement(query);
    return facetsOf(await queryReadRows<FacetRow>(statement.sql, statement.bind));
  }

  /** The seller's own products in every state (deleted ones excepted), with their private columns. */
  listOwn(sellerId: string, query: SellerProductQuery): Promise<ProductPage> {
    const bind: Record<string, unknown> = { ownerId: sellerId };
    const conditions = ['p.seller_id = $ownerId::uuid', 'p.deleted_at IS NULL'];
    if (query.status) {
      bind.status = query.status;
      conditions.push('p.status = $status::enum_products_status');
    }
    const statement = pageStatement({ ctes: [], conditions }, [sortKey('created_at', 'DESC'), sortKey('id', 'DESC')], query, bind, { private: true });
    return runPage(statement, query);
  }

  private async findDetail(where: { id?: string; slug?: string }, transaction?: Transaction): Promise<ProductDetailRow | undefined> {
    const statement = buildDetailStatement(where);
    const [row] = transaction
      ? await queryRows<ProductDetailRow>(statement.sql, statement.bind, transaction)
      : await queryReadRows<ProductDetailRow>(statement.sql, statement.bind);
    return row;
  }

  /**
   * A product by id (a UUID) or slug. Drafts and inactive products exist only for their seller
   * and admins; others get 404. A public read counts a view, without writing to the database.
   */
  /** Counts a public view of a product (no database write: see view-counter.service). */
  countView(productId: string): void {
    recordView(productId);
  }

  async get(idOrSlug: string, viewer: Viewer | undefined): Promise<ProductDetailView> {
    const row = await this.findDetail(isUuid(idOrSlug) ? { id: idOrSlug } : { slug: idOrSlug });
    if (!row) throw new NotFoundError('Product');
    const privileged = canSeeEverything(viewer, row.seller_id);
    if (!privileged && !isListed(row.status)) throw new NotFoundError('Product');
    if (!privileged) recordView(row.id);
    return serializeProductDetail(row, { private: privileged });
  }

  /** Other active products of the product's category, best rated then newest first. */
  async related(productId: string, limit: number): Promise<ProductSummaryView[]> {
    const joined = summaryJoins('r');
    const rows = await queryReadRows<ProductSummaryRow & { found: boolean }>(
      `SELECT r.*, ${joined.columns}
       FROM (SELECT p.category_id FROM products p WHERE p.id = $id::uuid AND ${LISTED_PRODUCTS}) self
       LEFT JOIN LATERAL (
         SELECT ${summaryColumns()}
         FROM products p
         WHERE ${LISTED_PRODUCTS} AND p.status = 'active' AND p.category_id = self.category_id AND p.id <> $id::uuid
         ORDER BY p.average_rating DESC, p.created_at DESC, p.id DESC
         LIMIT $limit::int
       ) r ON true
       ${joined.joins}
       ORDER BY r.average_rating DESC, r.created_at DESC, r.id DESC`,
      { id: productId, limit },
    );
    if (rows.length === 0) throw new NotFoundError('Product');
    return rows.filter((row) => row.id !== null).map(serializeProductSummary);
  }

  /** The seller a product is created for: the caller when a seller, an approved seller an admin names. */
  private async ownerFor(viewer: Viewer, sellerId: string | undefined): Promise<string> {
    if (viewer.role !== 'admin') {
      if (sellerId !== undefined && sellerId !== viewer.id) {
        throw new ValidationError([{ field: 'sellerId', message: 'sellerId is only for admins' }]);
      }
      return viewer.id;
    }
    if (!sellerId) throw new ValidationError([{ field: 'sellerId', message: 'sellerId is required when an admin creates a product' }]);
    const seller = await User.findOne({
      where: { id: sellerId, role: 'seller', status: 'approved' },
      include: [{ model: SellerProfile, as: 'sellerProfile', required: true }],
    });
    if (!seller) throw new ValidationError([{ field: 'sellerId', message: 'sellerId must name an approved seller' }]);
    return seller.id;
  }

  /**
   * Creates a product for the calling seller (or, for an admin, the approved seller named by
   * sellerId) with its variants, in one transaction: the given ones, or one default variant from
   * the product-level SKU, prices and stock. The slug comes from the name, with a suffix when
   * taken; a SKU is unique within the seller's catalog (409 SKU_EXISTS); an active product
   * without stock is stored as out_of_stock.
   */
  async create(viewer: Viewer, input: ProductInput): Promise<ProductDetailView> {
    const { sellerId, options = [], variants, price, comparePrice, costPrice, sku, stockQuantity, lowStockThreshold, ...fields } = input;
    const ownerId = await this.ownerFor(viewer, sellerId);
    const variantInputs: VariantInput[] = variants ?? [
      { sku: sku!, options: {}, price: price!, comparePrice, costPrice, stockQuantity: stockQuantity ?? 0, lowStockThreshold: lowStockThreshold ?? 10, images: [], status: 'active' },
    ];
    checkVariantOptions(options, variantInputs);
    checkDistinctSkus(variantInputs);
    const lowest = variantInputs.reduce((low, variant) => (toMinor(variant.price) < toMinor(low.price) ? variant : low));
    let productId: string;
    try {
      productId = await inTransaction(async (transaction) => {
        const product = await withUniqueSlug(
          fields.name,
          'products_slug_key',
          (slug) =>
            Product.create(
              {
                ...fields,
                description: fields.description ?? null,
                shortDescription: fields.shortDescription ?? null,
                // Placeholders until the variants are in: refreshProductFromVariants sets them.
                price: lowest.price,
                priceMax: lowest.price,
                comparePrice: null,
                costPrice: null,
                stockQuantity: 0,
                options,
                weight: weightOf(fields.weight) ?? null,
                dimensions: fields.dimensions ?? null,
                categoryId: fields.categoryId ?? null,
                seoTitle: fields.seoTitle ?? null,
                seoDescription: fields.seoDescription ?? null,
                slug,
                sellerId: ownerId,
              },
              { transaction },
            ),
          { maxLength: 120, transaction },
        );
        await insertVariants({ id: product.id, sellerId: ownerId, options }, variantInputs, 0, transaction);
        await refreshProductFromVariants(product.id, transaction);
        await recordProductEvent('product.created', product.id, transaction);
        return product.id;
      }, { name: 'product create' });
    } catch (error) {
      throw productWriteError(error);
    }
    forgetCatalogCaches();
    logger.info('product created', { productId, sellerId: ownerId, variants: variantInputs.length });
    return this.detailFor(productId, true);
  }

  private async detailFor(id: string, privileged: boolean, transaction?: Transaction): Promise<ProductDetailView> {
    const row = await this.findDetail({ id }, transaction);
    if (!row) throw new NotFoundError('Product');
    return serializeProductDetail(row, { private: privileged });
  }

  /**
   * Changes a product of the caller (or any, for an admin). The product-level price, compare
   * price, cost price, SKU, stock and threshold are its only variant's (400 VARIANT_REQUIRED when
   * it has several: change those at /variants/:variantId). New `options` must still fit every
   * variant (adding values is how a new size comes in). Stock and status stay in step. The slug
   * does not change with the name: links stay valid. The product of a suspended seller keeps its
   * `suspended` status; a status asked for meanwhile is the one it gets back when the seller is
   * approved again.
   */
  async update(id: string, viewer: Viewer, changes: ProductChanges): Promise<ProductDetailView> {
    const { options, weight, status, ...rest } = changes;
    const variantChanges = Object.fromEntries(VARIANT_FIELDS.filter((field) => rest[field] !== undefined).map((field) => [field, rest[field]]));
    const productChanges = Object.fromEntries(Object.entries(rest).filter(([field]) => !(VARIANT_FIELDS as readonly string[]).includes(field)));
    try {
      return await inTransaction(async (transaction) => {
        transaction.afterCommit(forgetCatalogCaches);
        await lockProductForChange(id, viewer, transaction);
        if (options !== undefined || Object.keys(variantChanges).length > 0) {
          const variants = await liveVariants(id, transaction);
          if (options !== undefined) checkVariantOptions(options, variants);
          if (Object.keys(variantChanges).length > 0) {
            if (variants.length !== 1) {
              throw new BadRequestError('VARIANT_REQUIRED', 'This product has several variants: change their prices, SKUs and stock at /api/products/:id/variants/:variantId');
            }
            await changeVariant(variants[0], variantChanges, transaction);
          }
        }
        const product = (await Product.findByPk(id, { transaction }))!;
        // A suspended seller's product stays out of the catalog: a status set meanwhile is the one it returns with.
        const statusChange = status === undefined ? {} : product.status === 'suspended' ? { statusBeforeSuspension: status } : { status };
        product.set({
          ...productChanges,
          ...statusChange,
          ...(options === undefined ? {} : { options }),
          ...(weight === undefined ? {} : { weight: weightOf(weight) }),
        });
        // The model's validate hook keeps status and stock in step (active ⇄ out_of_stock).
        await product.save({ transaction });
        await refreshProductFromVariants(id, transaction);
        await recordProductEvent('product.updated', id, transaction);
        return this.detailFor(id, true, transaction);
      }, { name: 'product update' });
    } catch (error) {
      throw productWriteError(error);
    }
  }

  /** Soft-deletes the product and its variants (order lines keep pointing at them; their SKUs become free again). */
  async remove(id: string, viewer: Viewer): Promise<void> {
    await inTransaction(async (transaction) => {
      transaction.afterCommit(forgetCatalogCaches);
      await lockProductForChange(id, viewer, transaction);
      await queryRows('UPDATE product_variants SET deleted_at = now(), updated_at = now() WHERE product_id = $id AND deleted_at IS NULL', { id }, transaction);
      await queryRows('UPDATE products SET deleted_at = now(), updated_at = now() WHERE id = $id', { id }, transaction);
      await recordProductEvent('product.deleted', id, transaction);
    }, { name: 'product delete' });
    logger.info('product deleted', { productId: id, by: viewer.id });
  }
}

function weightOf(weight: number | null | undefined): string | null | undefined {
  return typeof weight === 'number' ? weight.toFixed(2) : weight;
}

export const productService = new ProductService();
