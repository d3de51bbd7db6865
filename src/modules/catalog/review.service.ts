import { UniqueConstraintError, type Transaction } from 'sequelize';
import { getSequelize } from '../../platform/db';
import { queryRows } from '../../platform/db/query';
import { queryReadRows } from '../../platform/db/replicas';
import { Product, Review, User } from '../../models';
import type { UserRole } from '../../models/enums';
import { ConflictError, ForbiddenError, NotFoundError } from '../../platform/utils/errors';
import { offsetOf, paginationOf, type PageQuery, type Pagination } from '../../platform/utils/pagination';
import { forgetCatalogCaches } from './catalog-cache';
import { LISTED_PRODUCTS } from './product.service';

export type ReviewSort = 'newest' | 'rating';

export interface ReviewActor {
  id: string;
  name: string;
  role: UserRole;
}

export interface ReviewInput {
  rating: number;
  title?: string | null;
  comment: string;
}

export type ReviewChanges = Partial<ReviewInput>;

export interface ReviewView {
  id: string;
  productId: string;
  rating: number;
  title: string | null;
  comment: string;
  isVerifiedPurchase: boolean;
  /** The author, reduced to what the public may see. Null only if the row lost its author. */
  user: { id: string; name: string } | null;
  createdAt: Date;
  updatedAt: Date;
}

/** The product's rating as it stands after a review write. */
export interface ProductRatingView {
  id: string;
  averageRating: number;
  reviewCount: number;
}

/**
 * A listing's order over the listing's output columns, each name after `prefix` (empty within the
 * page's own SELECT, where ORDER BY names its output columns); the id breaks ties so that pages never overlap.
 */
const LIST_ORDER: Record<ReviewSort, (prefix: string) => string> = {
  newest: (prefix) => `${prefix}"createdAt" DESC, ${prefix}id ASC`,
  rating: (prefix) => `${prefix}rating DESC, ${prefix}"createdAt" DESC, ${prefix}id ASC`,
};

const AUTHOR = { model: User, as: 'user', attributes: ['id', 'name'] };

function toView(review: Review): ReviewView {
  return {
    id: review.id,
    productId: review.productId,
    rating: review.rating,
    title: review.title,
    comment: review.comment,
    isVerifiedPurchase: review.isVerifiedPurchase,
    user: review.user ? { id: review.user.id, name: review.user.name } : null,
    createdAt: review.createdAt,
    updatedAt: review.updatedAt,
  };
}

function blankToNull(title: string | null | undefined): string | null {
  return title ? title : null;
}

/** Product reviews, and the product's averageRating/reviewCount that follow from them. */
export class ReviewService {
  /**
   * Reviews of a publicly visible product (active or out of stock, not deleted), paginated: one
   * statement, a catalog read (a read replica's when there are any), that answers no row for a
   * product not shown, and one row with no review past the last page.
   */
  async listForProduct(productId: string, query: PageQuery & { sortBy: ReviewSort }): Promise<{ reviews: ReviewView[]; pagination: Pagination }> {
    const order = LIST_ORDER[query.sortBy];
    // The page's columns are the view's (its author as the object shown, or null); past the last page r.id is null.
    const rows = await queryReadRows<ReviewView & { total: number }>(
      `SELECT t.total, r.*
         FROM products p
        CROSS JOIN (SELECT count(*)::int AS total FROM reviews WHERE product_id = $productId) t
         LEFT JOIN LATERAL (
           SELECT rv.id, rv.product_id AS "productId", rv.rating, rv.title, rv.comment, rv.is_verified_purchase AS "isVerifiedPurchase",
                  CASE WHEN u.id IS NULL THEN NULL ELSE json_build_object('id', u.id, 'name', u.name) END AS "user",
                  rv.created_at AS "createdAt", rv.updated_at AS "updatedAt"
             FROM reviews rv LEFT JOIN users u ON u.id = rv.user_id
            WHERE rv.product_id = $productId
            ORDER BY ${order('')}
            LIMIT $limit OFFSET $offset
         ) r ON true
        WHERE p.id = $productId AND ${LISTED_PRODUCTS}
        ORDER BY ${order('r.')}`,
      { productId, limit: query.limit, offset: offsetOf(query) },
    );
    if (rows.length === 0) throw new NotFoundError('Product');
    const reviews: ReviewView[] = rows.filter((row) => row.id !== null).map(({ total: _total, ...review }) => review);
    return { reviews, pagination: paginationOf(query, rows[0].total) };
  }

  /**
   * Adds the customer's review of a publicly visible product they received (an order line of
   * theirs for it that is delivered). One review per customer and product, decided by the unique
   * index (409 REVIEW_EXISTS). The review and the product's rating are written in one transaction.
   */
  async create(actor: ReviewActor, productId: string, input: ReviewInput): Promise<{ review: ReviewView; product: ProductRatingView }> {
    return getSequelize().transaction(async (transaction) => {
      transaction.afterCommit(forgetCatalogCaches);
      const product = await Product.findByPk(productId, { attributes: ['id', 'status', 'deletedAt'], transaction, lock: transaction.LOCK.NO_KEY_UPDATE });
      if (!product?.isPublic()) throw new NotFoundError('Product');

      const orderItemId = await this.deliveredOrderItem(actor.id, productId, transaction);
      if (!orderItemId) {
        throw new ForbiddenError('REVIEW_NOT_ALLOWED', 'Only a customer who received this product may review it');
      }

      let review: Review;
      try {
        review = await Review.create(
          { productId, userId: actor.id, orderItemId, rating: input.rating, title: blankToNull(input.title), comment: input.comment, isVerifiedPurchase: true },
          { transaction },
        );
      } catch (error) {
        if (error instanceof UniqueConstraintError) throw new ConflictError('REVIEW_EXISTS', 'You have already reviewed this product');
        throw error;
      }
      const rating = await this.refreshRating(productId, transaction);
      return { review: toView(await this.reload(review.id, transaction)), product: rating };
    });
  }

  /**
   * Changes a review's rating, title or comment; only its author or an admin may (others get
   * 403 RESOURCE_ACCESS_DENIED: reviews are public). The product's rating follows in the same transaction.
   */
  async update(actor: ReviewActor, reviewId: string, changes: ReviewChanges): Promise<{ review: ReviewView; product: ProductRatingView }> {
    return getSequelize().transaction(async (transaction) => {
      transaction.afterCommit(forgetCatalogCaches);
      const review = await this.lockForWrite(actor, reviewId, transaction);
      const values: Partial<Pick<Review, 'rating' | 'title' | 'comment'>> = {};
      if (changes.rating !== undefined) values.rating = changes.rating;
      if (changes.title !== undefined) values.title = blankToNull(changes.title);
      if (changes.comment !== undefined) values.comment = changes.comment;
      await review.update(values, { transaction });
      const rating = await this.refreshRating(review.productId, transaction);
      return { review: toView(await this.reload(review.id, transaction)), product: rating };
    });
  }

  /** Deletes a review (author or admin) and recomputes the product's rating in the same transaction. */
  async remove(actor: ReviewActor, reviewId: string): Promise<{ product: ProductRatingView }> {
    return getSequelize().transaction(async (transaction) => {
      transaction.afterCommit(forgetCatalogCaches);
      const review = await this.lockForWrite(actor, reviewId, transaction);
      await review.destroy({ transaction });
      return { product: await this.refreshRating(review.productId, transaction) };
    });
  }

  /**
   * The review, after locking its product row. Every review write locks the product first, in
   * the same order, so writers of one product queue behind each other instead of deadlocking.
   */
  private async lockForWrite(actor: ReviewActor, reviewId: string, transaction: Transaction): Promise<Review> {
    const found = await Review.findByPk(reviewId, { attributes: ['id', 'productId', 'userId'], transaction });
    if (!found) throw new NotFoundError('Review');
    if (actor.role !== 'admin' && found.userId !== actor.id) {
      throw new ForbiddenError('RESOURCE_ACCESS_DENIED', 'Only the author or an admin may change this review');
    }
    // paranoid: false: the author may still edit or delete a review of a product that was since removed.
    await Product.findByPk(found.productId, { attributes: ['id'], paranoid: false, transaction, lock: transaction.LOCK.NO_KEY_UPDATE });
    // Read again under the lock: a concurrent delete may have won the race.
    const review = await Review.findByPk(reviewId, { transaction, lock: transaction.LOCK.UPDATE });
    if (!review) throw new NotFoundError('Review');
    return review;
  }

  /** A delivered order line of this customer for this product: the one the review is tied to. */
  private async deliveredOrderItem(userId: string, productId: string, transaction: Transaction): Promise<string | undefined> {
    const rows = await queryRows<{ id: string }>(
      `SELECT oi.id
         FROM order_items oi
         JOIN orders o ON o.id = oi.order_id
        WHERE oi.product_id = $productId
          AND o.user_id = $userId
          AND (o.status = 'delivered' OR oi.fulfillment_status = 'delivered')
        ORDER BY oi.created_at
        LIMIT 1`,
      { productId, userId },
      transaction,
    );
    return rows[0]?.id;
  }

  /**
   * Recomputes averageRating and reviewCount with one SQL aggregate, never from rows loaded into
   * the process. It runs after the product row was locked at the start of the transaction: under
   * READ COMMITTED each statement sees the rows committed before it starts, so a second writer,
   * which waited for that lock, counts the first writer's review. Relying on this UPDATE's own row
   * lock instead would not be enough: a statement that waits for a row lock re-checks that row,
   * but its sub-selects on reviews keep the snapshot taken before it waited, and would miss the
   * review the other transaction just committed.
   */
  private async refreshRating(productId: string, transaction: Transaction): Promise<ProductRatingView> {
    const rows = await queryRows<{ id: string; averageRating: string; reviewCount: number }>(
      `UPDATE products
          SET average_rating = coalesce((SELECT round(avg(rating)::numeric, 2) FROM reviews WHERE product_id = $productId), 0),
              review_count = (SELECT count(*) FROM reviews WHERE product_id = $productId)
        WHERE id = $productId
        RETURNING id, average_rating AS "averageRating", review_count AS "reviewCount"`,
      { productId },
      transaction,
    );
    const row = rows[0];
    if (!row) throw new NotFoundError('Product');
    return { id: row.id, averageRating: Number(row.averageRating), reviewCount: Number(row.reviewCount) };
  }

  private async reload(reviewId: string, transaction: Transaction): Promise<Review> {
    const review = await Review.findByPk(reviewId, { include: [AUTHOR], transaction });
    if (!review) throw new NotFoundError('Review');
    return review;
  }
}

export const reviewService = new ReviewService();
