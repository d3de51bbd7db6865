import { ForeignKeyConstraintError, UniqueConstraintError, type Transaction } from 'sequelize';
import { getSequelize } from '../../platform/db';
import { queryRows } from '../../platform/db/query';
import { queryReadRows } from '../../platform/db/replicas';
import { Category, isUuid, type CategoryAttributes } from '../../models';
import { BadRequestError, ConflictError, NotFoundError, ValidationError } from '../../platform/utils/errors';
import { forgetCatalogCaches } from './catalog-cache';
import { logger } from '../../platform/utils/logger';
import { withUniqueSlug } from '../../platform/db/unique-slug';
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

export type CategoryView = Pick<CategoryAttributes, 'id' | 'name' | 'slug' | 'description' | 'parentId' | 'imageUrl' | 'sortOrder'>;

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

/**
 * Serializes moves and creates under a parent: two concurrent moves could each pass the cycle
 * check and together make a cycle, or each pass the depth check and together make a tree too deep.
 */
const TREE_LOCK = `SELECT pg_advisory_xact_lock(hashtext('catalog.category-tree'))`;

/** Levels a tree may have, a root being level 1 (the contract's limit). */
export const MAX_CATEGORY_DEPTH = 8;

function tooDeep(): BadRequestError {
  return new BadRequestError('CATEGORY_TOO_DEEP', `Categories nest at most ${MAX_CATEGORY_DEPTH} levels deep`);
}

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

/**
 * JSON text of a forest of nodes, written with an explicit stack. JSON.stringify recurses once per
 * level and throws past a few thousand levels; a tree written before the depth limit existed (a
 * 3,000-level chain) must still be served, so nothing here depends on the depth.
 */
export function categoryTreeJson(roots: CategoryNode[]): string {
  const out: string[] = ['['];
  const stack: Array<{ nodes: CategoryNode[]; next: number }> = [{ nodes: roots, next: 0 }];
  while (stack.length > 0) {
    const frame = stack[stack.length - 1];
    if (frame.next >= frame.nodes.length) {
      stack.pop();
      // Closes the children array, then the node that holds it (the outer array at the bottom).
      out.push(stack.length > 0 ? ']}' : ']');
      continue;
    }
    const node = frame.nodes[frame.next];
    if (frame.next > 0) out.push(',');
    frame.next += 1;
    const { children, ...fields } = node;
    const flat = JSON.stringify(fields);
    out.push(flat.slice(0, -1), flat === '{}' ? '"children":[' : ',"children":[');
    stack.push({ nodes: children, next: 0 });
  }
  return out.join('');
}

/** JSON text of one node and its sub-tree (e.g. a CategoryDetail), as categoryTreeJson writes it. */
export function categoryNodeJson(node: CategoryNode): string {
  return categoryTreeJson([node]).slice(1, -1);
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
    const rows = await queryReadRows<CategoryRow>(`SELECT ${CATEGORY_COLUMNS} FROM categories WHERE is_active ${ORDER}`, {});
    // Children of an inactive category are unreachable from the top: they are left out too.
    return nest(rows).filter((node) => node.parentId === null);
  }

  /** A category by id or slug with its sub-tree and the number of listed products in it. */
  async get(idOrSlug: string): Promise<CategoryDetail> {
    const root = isUuid(idOrSlug) ? 'id = $key::uuid' : 'slug = $key::text';
    const rows = await queryReadRows<CategoryRow & { product_count: number }>(
      `WITH RECURSIVE tree AS (
         SELECT ${CATEGORY_COLUMNS} FROM categories WHERE ${root} AND is_active
         UNION
         SELECT c.id, c.name, c.slug, c.description, c.parent_id, c.image_url, c.sort_order
         FROM categories c JOIN tree t ON c.parent_id = t.id
         WHERE c.is_active
       )
       SELECT tree.*, (SELECT count(*)::int FROM products p WHERE p.category_id IN (SELECT id FROM tree) AND ${LISTED_PRODUCTS}) AS product_count
       FROM tree ${ORDER}`,
      { key: idOrSlug },
    );
    const key = idOrSlug.toLowerCase();
    const top = rows.find((row) => row.id === key || row.slug === key);
    if (!top) throw new NotFoundError('Category');
    const node = nest(rows).find((candidate) => candidate.id === top.id)!;
    return { ...node, productCount: top.product_count };
  }

  /**
   * Creates a category; without a slug one is made from the name (suffixed when taken). Under a
   * parent already at the deepest level it is 400 CATEGORY_TOO_DEEP, checked with the tree lock
   * held so that no concurrent move makes the parent deeper meanwhile.
   */
  async create(input: CategoryInput): Promise<CategoryView> {
    const attributes = {
      name: input.name,
      description: input.description || null,
      parentId: input.parentId ?? null,
      imageUrl: input.imageUrl ?? null,
      sortOrder: input.sortOrder ?? 0,
    };
    try {
      const category = await getSequelize().transaction(async (transaction) => {
        if (attributes.parentId) {
          await queryRows(TREE_LOCK, {}, transaction);
          const { found, depth } = await this.ancestry(attributes.parentId, undefined, transaction);
          if (!found) throw new ValidationError([{ field: 'parentId', message: 'parentId does not name a category' }]);
          if (depth + 1 > MAX_CATEGORY_DEPTH) throw tooDeep();
        }
        return input.slug
          ? Category.create({ ...attributes, slug: input.slug }, { transaction })
          : withUniqueSlug(input.name, 'categories_slug_key', (slug) => Category.create({ ...attributes, slug }, { transaction }), {
              maxLength: 120,
              transaction,
            });
      });
      forgetCatalogCaches();
      logger.info('category created', { categoryId: category.id });
      return viewOf(category);
    } catch (error) {
      throw writeError(error);
    }
  }

  /**
   * Walks up from `parentId`: whether it exists, its depth (levels from its root, itself
   * included) and whether `id` is among its ancestors. UNION stops on a cycle; the walk of a chain
   * deeper than the limit (written before it existed) stops one level past it, which is all a
   * check needs.
   */
  private async ancestry(parentId: string, id: string | undefined, transaction: Transaction): Promise<{ found: boolean; depth: number; cycle: boolean }> {
    const [walk] = await queryRows<{ found: boolean; depth: number; cycle: boolean }>(
      `WITH RECURSIVE up AS (
         SELECT id, parent_id, 1 AS depth FROM categories WHERE id = $parentId::uuid
         UNION
         SELECT c.id, c.parent_id, up.depth + 1 FROM categories c JOIN up ON c.id = up.parent_id
         WHERE up.depth <= $limit AND up.id IS DISTINCT FROM $id::uuid
       )
       SELECT count(*) > 0 AS found, coalesce(max(depth), 0)::int AS depth, coalesce(bool_or(id = $id::uuid), false) AS cycle FROM up`,
      { parentId, id: id ?? null, limit: MAX_CATEGORY_DEPTH },
      transaction,
    );
    return walk;
  }

  /** Levels of the sub-tree of `id`, itself included; stops one level past the limit. */
  private async height(id: string, transaction: Transaction): Promise<number> {
    const [result] = await queryRows<{ height: number }>(
      `WITH RECURSIVE down AS (
         SELECT id, 1 AS depth FROM categories WHERE id = $id::uuid
         UNION
         SELECT c.id, down.depth + 1 FROM categories c JOIN down ON c.parent_id = down.id
         WHERE down.depth <= $limit
       )
       SELECT coalesce(max(depth), 0)::int AS height FROM down`,
      { id, limit: MAX_CATEGORY_DEPTH },
      transaction,
    );
    return result.height;
  }

  /**
   * Changes a category. A new parent may not be the category itself nor one of its descendants
   * (400 CATEGORY_CYCLE), and the moved sub-tree must still end within MAX_CATEGORY_DEPTH levels
   * (400 CATEGORY_TOO_DEEP): checked by walking the new parent's ancestors and the category's
   * descendants inside the transaction, with the tree lock held so that no concurrent move or
   * create can invalidate the walks.
   */
  async update(id: string, changes: CategoryChanges): Promise<CategoryView> {
    try {
      return await getSequelize().transaction(async (transaction) => {
        transaction.afterCommit(forgetCatalogCaches);
        const moving = typeof changes.parentId === 'string';
        if (moving) await queryRows(TREE_LOCK, {}, transaction);
        const category = await Category.findByPk(id, { transaction, lock: transaction.LOCK.UPDATE });
        if (!category) throw new NotFoundError('Category');
        if (moving && changes.parentId !== category.parentId) {
          if (changes.parentId === id) throw new BadRequestError('CATEGORY_CYCLE', 'A category cannot be its own parent');
          const walk = await this.ancestry(changes.parentId!, id, transaction);
          if (!walk.found) throw new ValidationError([{ field: 'parentId', message: 'parentId does not name a category' }]);
          if (walk.cycle) throw new BadRequestError('CATEGORY_CYCLE', 'A category cannot be moved under one of its own descendants');
          if (walk.depth + (await this.height(id, transaction)) > MAX_CATEGORY_DEPTH) throw tooDeep();
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
      const [usage] = await queryRows<{ children: boolean; products: boolean }>(
        `SELECT EXISTS (SELECT 1 FROM categories WHERE parent_id = $id::uuid) AS children,
                EXISTS (SELECT 1 FROM products WHERE category_id = $id::uuid AND deleted_at IS NULL) AS products`,
        { id },
        transaction,
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
