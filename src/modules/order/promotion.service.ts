import type { Transaction } from 'sequelize';
import type { Caller } from '../accounts';
import type { PromotionAttributes, PromotionType } from '../../models';
import { queryRows } from '../../platform/db/query';
import { inTransaction } from '../../platform/db/transaction';
import { ConflictError, NotFoundError, ValidationError, type ErrorDetail } from '../../platform/utils/errors';
import { toMinor } from '../../platform/utils/money';
import { offsetOf, paginationOf, type PageQuery, type Pagination } from '../../platform/utils/pagination';

export interface PromotionInput {
  /** Upper case. */
  code: string;
  type: PromotionType;
  /** A percent for `percentage`, money for `fixed` (decimal strings); null for `free_shipping`. */
  value?: string | null;
  minSubtotal?: string | null;
  startsAt?: Date | null;
  endsAt?: Date | null;
  usageLimit?: number | null;
  usageLimitPerCustomer?: number | null;
  productIds?: string[] | null;
  categoryIds?: string[] | null;
  active?: boolean;
}

export type PromotionChanges = Partial<PromotionInput>;

export interface PromotionListQuery extends PageQuery {
  /** An admin's view of one seller's promotions instead of the platform's. */
  sellerId?: string;
}

/** A promotion as the API shows it: every column of the model. */
export type PromotionView = PromotionAttributes;

/** A percentage promotion takes at most 100 %, in hundredths. */
const MAX_PERCENT_HUNDREDTHS = 100_00;

/**
 * A promotion's uses not given back, `table` naming its promotions row: `used_count` while it has a
 * usage limit (checkouts keep it under the limit), else counted from its use rows, since checkouts
 * of a code without a limit take their use without writing its row (see checkout's promotion steps).
 */
export function promotionUsesOf(table: string): string {
  return `CASE WHEN ${table}.usage_limit IS NULL
    THEN (SELECT count(*)::int FROM promotion_uses u WHERE u.promotion_id = ${table}.id AND u.released_at IS NULL)
    ELSE ${table}.used_count END`;
}

const COLUMNS = `id, code, seller_id AS "sellerId", type, value, min_subtotal AS "minSubtotal", starts_at AS "startsAt", ends_at AS "endsAt",
  usage_limit AS "usageLimit", usage_limit_per_customer AS "usageLimitPerCustomer", product_ids AS "productIds", category_ids AS "categoryIds",
  active, ${promotionUsesOf('promotions')} AS "usedCount", created_at AS "createdAt", updated_at AS "updatedAt"`;

/** Input field → column, for the fields a write may set (used_count is the checkouts' alone). */
const FIELD_COLUMNS: Record<keyof PromotionInput, string> = {
  code: 'code',
  type: 'type',
  value: 'value',
  minSubtotal: 'min_subtotal',
  startsAt: 'starts_at',
  endsAt: 'ends_at',
  usageLimit: 'usage_limit',
  usageLimitPerCustomer: 'usage_limit_per_customer',
  productIds: 'product_ids',
  categoryIds: 'category_ids',
  active: 'active',
};

function fieldsOf(values: PromotionChanges): Array<keyof PromotionInput> {
  return (Object.keys(FIELD_COLUMNS) as Array<keyof PromotionInput>).filter((field) => values[field] !== undefined);
}

type Rules = Pick<PromotionView, 'type' | 'value' | 'startsAt' | 'endsAt'>;

/** The rules that tie fields together, checked on the promotion as it would be after the write. */
function ruleProblems({ type, value, startsAt, endsAt }: Rules): ErrorDetail[] {
  const problems: ErrorDetail[] = [];
  if (type === 'free_shipping') {
    if (value !== null) problems.push({ field: 'value', message: 'value must be absent for a free_shipping promotion' });
  } else if (value === null) {
    problems.push({ field: 'value', message: `value is required for a ${type} promotion` });
  } else if (type === 'percentage' && toMinor(value) > MAX_PERCENT_HUNDREDTHS) {
    problems.push({ field: 'value', message: 'value must be a percent greater than 0 and at most 100' });
  }
  if (startsAt && endsAt && endsAt.getTime() <= startsAt.getTime()) problems.push({ field: 'endsAt', message: 'endsAt must be after startsAt' });
  return problems;
}

/** The answers of the constraints a write of a promotion may break. */
function promotionWriteError(error: unknown): unknown {
  const original = (error as { original?: { code?: string; constraint?: string } } | undefined)?.original;
  if (original?.code === '23505' && original.constraint === 'promotions_code_key') {
    return new ConflictError('PROMO_CODE_EXISTS', 'There is already a promotion with this code');
  }
  // Checkouts take uses with a conditional UPDATE, so the CHECK is the only place the limit and the uses meet without a race.
  if (original?.code === '23514' && original.constraint === 'promotions_used_count_check') {
    return new ConflictError('PROMO_LIMIT_BELOW_USES', 'The usage limit cannot be lower than the uses already taken');
  }
  return error;
}

/** The promotions a caller manages: an admin any, a seller their own. */
function scopeOf(caller: Caller): string {
  return caller.role === 'admin' ? 'TRUE' : 'seller_id = $callerId';
}

/**
 * Promotion codes: the platform's (seller_id null), made by admins, and each seller's own, which
 * apply to that seller's lines only. A code is unique in any case (stored upper case, unique
 * index); another seller's promotion is 404.
 */
export class PromotionService {
  /** One page of the promotions of a seller, or of the platform's (sellerId null), newest first. */
  async list(sellerId: string | null, query: PageQuery): Promise<{ promotions: PromotionView[]; pagination: Pagination }> {
    const where = sellerId === null ? 'seller_id IS NULL' : 'seller_id = $sellerId';
    const [{ total }] = await queryRows<{ total: number }>(`SELECT count(*)::int AS total FROM promotions WHERE ${where}`, { sellerId });
    const promotions = await queryRows<PromotionView>(
      `SELECT ${COLUMNS} FROM promotions WHERE ${where} ORDER BY created_at DESC, id DESC LIMIT $limit OFFSET $offset`,
      { sellerId, limit: query.limit, offset: offsetOf(query) },
    );
    return { promotions, pagination: paginationOf(query, total) };
  }

  /** A promotion of the caller: the platform's when an admin makes it, else the seller's own, limited to their products. */
  async create(caller: Caller, input: PromotionInput): Promise<PromotionView> {
    const sellerId = caller.role === 'admin' ? null : caller.id;
    const problems = ruleProblems({ type: input.type, value: input.value ?? null, startsAt: input.startsAt ?? null, endsAt: input.endsAt ?? null });
    if (problems.length > 0) throw new ValidationError(problems);
    await this.checkTargets(sellerId, input);
    const fields = fieldsOf(input);
    const [row] = await queryRows<PromotionView>(
      `INSERT INTO promotions (seller_id, ${fields.map((field) => FIELD_COLUMNS[field]).join(', ')})
       VALUES ($sellerId, ${fields.map((field) => `$${field}`).join(', ')})
       RETURNING ${COLUMNS}`,
      { sellerId, ...Object.fromEntries(fields.map((field) => [field, input[field]])) },
    ).catch((error: unknown) => {
      throw promotionWriteError(error);
    });
    return row;
  }

  /**
   * Changes some fields; the type and value, and the window, are checked as they will be together.
   * The row is locked while it is read and written, so two changes cannot each pass the check
   * against the other's old values. A change of the usage limit locks it FOR UPDATE: that waits for
   * the checkouts placing an order with the code (their order's reference holds a KEY SHARE lock on
   * it) and holds off new ones, so that a limit set on a code that had none counts, in the next
   * statement, every use taken without one.
   */
  async update(caller: Caller, promotionId: string, changes: PromotionChanges): Promise<PromotionView> {
    return inTransaction(async (transaction) => {
      const [current] = await queryRows<Rules & { sellerId: string | null }>(
        `SELECT type, value, starts_at AS "startsAt", ends_at AS "endsAt", seller_id AS "sellerId"
           FROM promotions WHERE id = $promotionId AND ${scopeOf(caller)} ${changes.usageLimit !== undefined ? 'FOR UPDATE' : 'FOR NO KEY UPDATE'}`,
        { promotionId, callerId: caller.id },
        transaction,
      );
      if (!current) throw new NotFoundError('Promotion');
      const merged: Rules = {
        type: changes.type ?? current.type,
        value: changes.value !== undefined ? changes.value : current.value,
        startsAt: changes.startsAt !== undefined ? changes.startsAt : current.startsAt,
        endsAt: changes.endsAt !== undefined ? changes.endsAt : current.endsAt,
      };
      const problems = ruleProblems(merged);
      if (problems.length > 0) throw new ValidationError(problems);
      await this.checkTargets(current.sellerId, changes, transaction);
      const fields = fieldsOf(changes);
      const sets = [...fields.map((field) => `${FIELD_COLUMNS[field]} = $${field}`), 'updated_at = now()'];
      // A code without a limit kept no count (see promotionUsesOf): the limit starts from its uses.
      if (changes.usageLimit !== undefined) sets.push(`used_count = ${promotionUsesOf('promotions')}`);
      const [row] = await queryRows<PromotionView>(
        `UPDATE promotions SET ${sets.join(', ')} WHERE id = $promotionId RETURNING ${COLUMNS}`,
        { promotionId, ...Object.fromEntries(fields.map((field) => [field, changes[field]])) },
        transaction,
      ).catch((error: unknown) => {
        throw promotionWriteError(error);
      });
      return row;
    }, { name: 'change promotion' });
  }

  /** Deactivates the promotion (it is kept: orders that used it keep their discount and their link to it). */
  async deactivate(caller: Caller, promotionId: string): Promise<PromotionView> {
    const [row] = await queryRows<PromotionView>(
      `UPDATE promotions SET active = false, updated_at = now() WHERE id = $promotionId AND ${scopeOf(caller)} RETURNING ${COLUMNS}`,
      { promotionId, callerId: caller.id },
    );
    if (!row) throw new NotFoundError('Promotion');
    return row;
  }

  /**
   * The products and categories a promotion names exist (products not deleted); a seller's
   * promotion names only that seller's products.
   */
  private async checkTargets(sellerId: string | null, { productIds, categoryIds }: PromotionChanges, transaction?: Transaction): Promise<void> {
    const problems: ErrorDetail[] = [];
    if (productIds && productIds.length > 0) {
      const [{ found }] = await queryRows<{ found: number }>(
        `SELECT count(*)::int AS found FROM products
          WHERE id = ANY($productIds::uuid[]) AND deleted_at IS NULL${sellerId === null ? '' : ' AND seller_id = $sellerId'}`,
        { productIds, sellerId },
        transaction,
      );
      if (found !== productIds.length) {
        problems.push({ field: 'productIds', message: sellerId === null ? 'productIds must name existing products' : 'productIds must name your own products' });
      }
    }
    if (categoryIds && categoryIds.length > 0) {
      const [{ found }] = await queryRows<{ found: number }>('SELECT count(*)::int AS found FROM categories WHERE id = ANY($categoryIds::uuid[])', { categoryIds }, transaction);
      if (found !== categoryIds.length) problems.push({ field: 'categoryIds', message: 'categoryIds must name existing categories' });
    }
    if (problems.length > 0) throw new ValidationError(problems);
  }
}

export const promotionService = new PromotionService();
