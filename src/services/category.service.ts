import { ForeignKeyConstraintError, QueryTypes, UniqueConstraintError } from 'sequelize';
import { getSequelize } from '../db';
import { Category, isUuid } from '../models';
import { BadRequestError, ConflictError, NotFoundError, ValidationError } from '../utils/errors';
import { forgetCatalogCaches } from './catalog-cache';
import { logger } from '../utils/logger';
import { withUniqueSlug } from '../utils/slug';
import { LISTED_PRODUCTS } from './product.service';

export interface CategoryInput {
  name: string;
  slug?: string;
  description?: string | null;
  parentId?: string | null;
  imageUrl?: string | null;
  sortOrder?: number;
}

export type CategoryChanges = Partial<CategoryInput>;

export interface CategoryView {
  id: string;
  name: string;
  slug: string;
  description: string | null;
  parentId: string | null;
  imageUrl: string | null;
  sortOrder: number;
}

export interface CategoryNode extends CategoryView {
  children: CategoryNode[];
}

export interface CategoryDetail extends CategoryNode {
  /** Listed products (active or sold out) of the category and all its descendants. */
  productCount: number;
}

interface CategoryRow {
  id: string;
  name: string;
  slug: string;
  description: string | null;
  parent_id: string | null;
  image_url: string | null;
  sort_order: number;
}

const CATEGORY_COLUMNS = 'id, name, slug, description, parent_id, image_url, sort_order';
const ORDER = 'ORDER BY sort_order, name, id';

/** Serializes moves in the tree: two concurrent moves could each pass the cycle check and together make a cycle. */
const TREE_LOCK = `SELECT pg_advisory_xact_lock(hashtext('catalog.category-tree'))`;

function nodeOf(row: CategoryRow): CategoryNode {
  return {
    id: row.id,
    name: row.name,
    slug: row.slug,
    description: row.description,
    parentId: row.parent_id,
    imageUrl: row.image_url,
    sortOrder: row.sort_order,
    children: [],
  };
}

function viewOf(category: Category): CategoryView {
  return {
    id: category.id,
    name: category.name,
    slug: category.slug,
    description: category.description,
    parentId: category.parentId,
    imageUrl: category.imageUrl,
    sortOrder: category.sortOrder,
  };
}

/** Nests rows (already in display order) under their parents; returns the nodes whose parent is not among them. */
function nest(rows: CategoryRow[]): CategoryNode[] {
  const nodes = new Map(rows.map((row) => [row.id, nodeOf(row)]));
  const roots: CategoryNode[] = [];
  for (const node of nodes.values()) {
    const parent = node.parentId ? nodes.get(node.parentId) : undefined;
    if (parent) parent.children.push(node);
    else roots.push(node);
  }
  return roots;
}

function writeError(error: unknown): unknown {
  if (error instanceof UniqueConstraintError && (error.original as { constraint?: string }).constraint === 'categories_slug_key') {
    return new ConflictError('CATEGORY_EXISTS', 'A category with this slug already exists');
  }
  if (error instanceof ForeignKeyConstraintError) {
    return new ValidationError([{ field: 'parentId', message: 'parentId does not name a category' }]);
  }
  return error;
}

export class CategoryService {
  /** Every active category as a tree, in display order: one query, nested in memory. */
  async tree(): Promise<CategoryNode[]> {
    const rows = await getSequelize().query<CategoryRow>(`SELECT ${CATEGORY_COLUMNS} FROM categories WHERE is_active ${ORDER}`, {
      type: QueryTypes.SELECT,
    });
    // Children of an inactive category are unreachable from the top: they are left out too.
    return nest(rows).filter((node) => node.parentId === null);
  }

  /** A category by id or slug with its sub-tree and the number of listed products in it. */
  async get(idOrSlug: string): Promise<CategoryDetail> {
    const root = isUuid(idOrSlug) ? 'id = $key::uuid' : 'slug = $key::text';
    const rows = await getSequelize().query<CategoryRow & { product_count: number }>(
      `WITH RECURSIVE tree AS (
         SELECT ${CATEGORY_COLUMNS} FROM categories WHERE ${root} AND is_active
         UNION
         SELECT c.id, c.name, c.slug, c.description, c.parent_id, c.image_url, c.sort_order
         FROM categories c JOIN tree t ON c.parent_id = t.id
         WHERE c.is_active
       )
       SELECT tree.*, (SELECT count(*)::int FROM products p WHERE p.category_id IN (SELECT id FROM tree) AND ${LISTED_PRODUCTS}) AS product_count
       FROM tree ${ORDER}`,
      { bind: { key: idOrSlug }, type: QueryTypes.SELECT },
    );
    const key = idOrSlug.toLowerCase();
    const top = rows.find((row) => row.id === key || row.slug === key);
    if (!top) throw new NotFoundError('Category');
    const node = nest(rows).find((candidate) => candidate.id === top.id)!;
    return { ...node, productCount: top.product_count };
  }

  /** Creates a category; without a slug one is made from the name (suffixed when taken). */
  async create(input: CategoryInput): Promise<CategoryView> {
    const attributes = {
      name: input.name,
      description: input.description || null,
      parentId: input.parentId ?? null,
      imageUrl: input.imageUrl ?? null,
      sortOrder: input.sortOrder ?? 0,
    };
    try {
      const category = input.slug
        ? await Category.create({ ...attributes, slug: input.slug })
        : await withUniqueSlug(input.name, 'categories_slug_key', (slug) => Category.create({ ...attributes, slug }), { maxLength: 120 });
      forgetCatalogCaches();
      logger.info('category created', { categoryId: category.id });
      return viewOf(category);
    } catch (error) {
      throw writeError(error);
    }
  }

  /**
   * Changes a category. A new parent may not be the category itself nor one of its descendants
   * (400 CATEGORY_CYCLE), checked by walking the new parent's ancestors inside the transaction,
   * with the tree lock held so that no concurrent move can invalidate the walk.
   */
  async update(id: string, changes: CategoryChanges): Promise<CategoryView> {
    try {
      return await getSequelize().transaction(async (transaction) => {
        transaction.afterCommit(forgetCatalogCaches);
        const moving = typeof changes.parentId === 'string';
        if (moving) await getSequelize().query(TREE_LOCK, { transaction });
        const category = await Category.findByPk(id, { transaction, lock: transaction.LOCK.UPDATE });
        if (!category) throw new NotFoundError('Category');
        if (moving && changes.parentId !== category.parentId) {
          if (changes.parentId === id) throw new BadRequestError('CATEGORY_CYCLE', 'A category cannot be its own parent');
          const [walk] = await getSequelize().query<{ found: boolean; cycle: boolean }>(
            `WITH RECURSIVE up AS (
               SELECT id, parent_id FROM categories WHERE id = $parentId::uuid
               UNION
               SELECT c.id, c.parent_id FROM categories c JOIN up ON c.id = up.parent_id
             )
             SELECT count(*) > 0 AS found, coalesce(bool_or(id = $id::uuid), false) AS cycle FROM up`,
            { bind: { parentId: changes.parentId, id }, type: QueryTypes.SELECT, transaction },
          );
          if (!walk.found) throw new ValidationError([{ field: 'parentId', message: 'parentId does not name a category' }]);
          if (walk.cycle) throw new BadRequestError('CATEGORY_CYCLE', 'A category cannot be moved under one of its own descendants');
        }
        const { description, ...rest } = changes;
        category.set({ ...rest, ...(description === undefined ? {} : { description: description || null }) });
        await category.save({ transaction });
        return viewOf(category);
      });
    } catch (error) {
      throw writeError(error);
    }
  }

  /**
   * Deletes an empty category: one with sub-categories or live products is 409
   * CATEGORY_NOT_EMPTY. The row lock makes a product or child created meanwhile wait, then
   * fail on its foreign key, instead of slipping in between the check and the delete.
   */
  async remove(id: string): Promise<void> {
    await getSequelize().transaction(async (transaction) => {
      transaction.afterCommit(forgetCatalogCaches);
      const category = await Category.findByPk(id, { transaction, lock: transaction.LOCK.UPDATE });
      if (!category) throw new NotFoundError('Category');
      const [usage] = await getSequelize().query<{ children: boolean; products: boolean }>(
        `SELECT EXISTS (SELECT 1 FROM categories WHERE parent_id = $id::uuid) AS children,
                EXISTS (SELECT 1 FROM products WHERE category_id = $id::uuid AND deleted_at IS NULL) AS products`,
        { bind: { id }, type: QueryTypes.SELECT, transaction },
      );
      if (usage.children || usage.products) {
        throw new ConflictError('CATEGORY_NOT_EMPTY', 'This category still has sub-categories or products', [
          { children: usage.children, products: usage.products },
        ]);
      }
      await category.destroy({ transaction });
    });
    logger.info('category deleted', { categoryId: id });
  }
}

export const categoryService = new CategoryService();
