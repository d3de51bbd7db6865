import { ForeignKeyConstraintError, UniqueConstraintError, type Transaction } from 'sequelize';
import { getSequelize } from '../../platform/db';
import { queryRows } from '../../platform/db/query';
import { forgetCatalogCaches } from './catalog-cache';
import { cachedTotal, rememberTotal, totalsGeneration } from './listing-totals';
import { isUuid, Product, SellerProfile, User, type ProductDimensions, type ProductStatus, type UserRole } from '../../models';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../../platform/utils/errors';
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
  sortBy: SearchSortBy;
}

export interface SellerProductQuery extends PageQuery {
  status?: ProductStatus;
}

/** Who is asking, when anyone is signed in. */
export interface Viewer {
  id: string;
  role: UserRole;
}

export interface ProductInput {
  name: string;
  description?: string | null;
  shortDescription?: string | null;
  price: string;
  comparePrice?: string | null;
  costPrice?: string | null;
  sku: string;
  stockQuantity: number;
  lowStockThreshold: number;
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

export type ProductChanges = Partial<Omit<ProductInput, 'sellerId'>>;

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
  return parts;
}

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
  options: { private?: boolean; rank?: string } = {},
): CatalogStatement {
  bind.limit = page.limit;
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
    LIMIT $limit::int OFFSET $offset::int
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
  return pageStatement(parts, listSort(query.sortBy, query.sortOrder), query, bind);
}

/** The statement GET /api/products/search runs (exported so that its plan can be checked). */
export function buildSearchStatement(query: ProductSearchQuery): CatalogStatement {
  const bind: Record<string, unknown> = {};
  const parts = filterParts({ category: query.category, minPrice: query.minPrice, maxPrice: query.maxPrice, search: query.q }, bind);
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
  const joined = summaryJoins('p');
  const condition = where.id ? 'p.id = $key::uuid' : 'p.slug = $key::text';
  return {
    sql: `SELECT ${DETAIL_COLUMNS}, ${joined.columns}
       FROM products p
       ${joined.joins}
       WHERE ${condition} AND p.deleted_at IS NULL`,
    bind: { key: where.id ?? where.slug },
  };
}

async function runPage(statement: CatalogStatement, page: PageQuery): Promise<ProductPage> {
  const known = statement.pageOnly ? cachedTotal(statement.pageOnly.totalKey) : undefined;
  if (known !== undefined && statement.pageOnly) {
    const rows = await queryRows<ProductSummaryRow>(statement.pageOnly.sql, statement.bind);
    return { products: rows.filter((row) => row.id !== null).map(serializeProductSummary), pagination: paginationOf(page, known) };
  }
  const since = totalsGeneration();
  const rows = await queryRows<ProductSummaryRow & { total: number }>(statement.sql, statement.bind);
  const total = rows[0]?.total ?? 0;
  if (statement.pageOnly) rememberTotal(statement.pageOnly.totalKey, total, since);
  return {
    products: rows.filter((row) => row.id !== null).map(serializeProductSummary),
    pagination: paginationOf(page, total),
  };
}

const DETAIL_COLUMNS = `${summaryColumns({ private: true })}, p.description, p.weight, p.dimensions, p.seo_title, p.seo_description, p.updated_at`;

function canSeeEverything(viewer: Viewer | undefined, sellerId: string): boolean {
  return viewer !== undefined && (viewer.role === 'admin' || viewer.id === sellerId);
}

function isListed(status: ProductStatus): boolean {
  return status === 'active' || status === 'out_of_stock';
}

/** Maps the unique and foreign key violations of a product write to the contract's answers. */
function productWriteError(error: unknown): unknown {
  if (error instanceof UniqueConstraintError && (error.original as { constraint?: string }).constraint === 'products_seller_id_sku_key') {
    return new ConflictError('SKU_EXISTS', 'You already have a product with this SKU');
  }
  if (error instanceof ForeignKeyConstraintError) {
    return new ValidationError([{ field: 'categoryId', message: 'categoryId does not name a category' }]);
  }
  return error;
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
    const [row] = await queryRows<ProductDetailRow>(statement.sql, statement.bind, transaction);
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
    const rows = await queryRows<ProductSummaryRow & { found: boolean }>(
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
   * sellerId). The slug comes from the name, with a suffix when taken; the SKU is unique per
   * seller (409 SKU_EXISTS); an active product without stock is stored as out_of_stock.
   */
  async create(viewer: Viewer, input: ProductInput): Promise<ProductDetailView> {
    const { sellerId, ...fields } = input;
    const ownerId = await this.ownerFor(viewer, sellerId);
    let product: Product;
    try {
      product = await withUniqueSlug(
        fields.name,
        'products_slug_key',
        (slug) =>
          Product.create({
            ...fields,
            description: fields.description ?? null,
            shortDescription: fields.shortDescription ?? null,
            comparePrice: fields.comparePrice ?? null,
            costPrice: fields.costPrice ?? null,
            weight: weightOf(fields.weight) ?? null,
            dimensions: fields.dimensions ?? null,
            categoryId: fields.categoryId ?? null,
            seoTitle: fields.seoTitle ?? null,
            seoDescription: fields.seoDescription ?? null,
            slug,
            sellerId: ownerId,
          }),
        { maxLength: 120 },
      );
    } catch (error) {
      throw productWriteError(error);
    }
    forgetCatalogCaches();
    logger.info('product created', { productId: product.id, sellerId: ownerId });
    return this.detailFor(product.id, true);
  }

  private async detailFor(id: string, privileged: boolean, transaction?: Transaction): Promise<ProductDetailView> {
    const row = await this.findDetail({ id }, transaction);
    if (!row) throw new NotFoundError('Product');
    return serializeProductDetail(row, { private: privileged });
  }

  /**
   * Loads a live product for a change by its seller or an admin, row-locked. Another seller
   * learns nothing about drafts (404) and is refused a public product (403).
   */
  private async lockForChange(id: string, viewer: Viewer, transaction: Transaction): Promise<Product> {
    const product = await Product.findByPk(id, { transaction, lock: transaction.LOCK.UPDATE });
    if (!product) throw new NotFoundError('Product');
    if (!canSeeEverything(viewer, product.sellerId)) {
      if (!isListed(product.status)) throw new NotFoundError('Product');
      throw new ForbiddenError('RESOURCE_ACCESS_DENIED', 'You can only change your own products');
    }
    return product;
  }

  /**
   * Changes a product of the caller (or any, for an admin). comparePrice is checked against the
   * resulting price; stock and status stay in step (stock back above 0 makes an out_of_stock
   * product active again). The slug does not change with the name: links stay valid. The product
   * of a suspended seller keeps its `suspended` status; a status asked for meanwhile is the one
   * it gets back when the seller is approved again.
   */
  async update(id: string, viewer: Viewer, changes: ProductChanges): Promise<ProductDetailView> {
    try {
      return await getSequelize().transaction(async (transaction) => {
        transaction.afterCommit(forgetCatalogCaches);
        const product = await this.lockForChange(id, viewer, transaction);
        const price = changes.price ?? product.price;
        const comparePrice = changes.comparePrice === undefined ? product.comparePrice : changes.comparePrice;
        if (comparePrice !== null && toMinor(comparePrice) <= toMinor(price)) {
          throw new ValidationError([{ field: 'comparePrice', message: 'comparePrice must be greater than price' }]);
        }
        const { weight, status, ...rest } = changes;
        // A suspended seller's product stays out of the catalog: a status set meanwhile is the one it returns with.
        const statusChange = status === undefined ? {} : product.status === 'suspended' ? { statusBeforeSuspension: status } : { status };
        product.set({ ...rest, ...statusChange, ...(weight === undefined ? {} : { weight: weightOf(weight) }) });
        // The model's validate hook keeps status and stock in step (active ⇄ out_of_stock).
        await product.save({ transaction });
        return this.detailFor(product.id, true, transaction);
      });
    } catch (error) {
      throw productWriteError(error);
    }
  }

  /** Soft-deletes (order lines keep pointing at it; its SKU becomes free again). */
  async remove(id: string, viewer: Viewer): Promise<void> {
    await getSequelize().transaction(async (transaction) => {
      transaction.afterCommit(forgetCatalogCaches);
      const product = await this.lockForChange(id, viewer, transaction);
      await product.destroy({ transaction });
    });
    logger.info('product deleted', { productId: id, by: viewer.id });
  }
}

function weightOf(weight: number | null | undefined): string | null | undefined {
  return typeof weight === 'number' ? weight.toFixed(2) : weight;
}

export const productService = new ProductService();
