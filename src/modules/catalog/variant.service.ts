import type { Transaction } from 'sequelize';
import { queryRows } from '../../platform/db/query';
import { inTransaction } from '../../platform/db/transaction';
import { recordProductEvent } from '../webhooks';
import { ConflictError, NotFoundError, ValidationError } from '../../platform/utils/errors';
import { logger } from '../../platform/utils/logger';
import { forgetCatalogCaches } from './catalog-cache';
import { serializeVariant, type VariantRow, type VariantView } from './product.serializer';
import {
  changeVariant,
  checkVariantOptions,
  insertVariants,
  liveVariants,
  lockProductForChange,
  MAX_VARIANTS,
  refreshProductFromVariants,
  variantTitle,
  variantWriteError,
  type LiveVariantRow,
  type VariantChanges,
  type VariantInput,
  type Viewer,
} from './variant-store';

/**
 * A product's variants, changed by its seller or an admin. Each change runs under the product's
 * locks (its variants, then its row) and brings the product's price range, stock and option
 * values in step before the commit.
 */

function lastVariant(): ConflictError {
  return new ConflictError('LAST_VARIANT', 'A product keeps at least one active variant: add or activate another first, or delete the product');
}

function findLive(variants: LiveVariantRow[], variantId: string): LiveVariantRow {
  const variant = variants.find((candidate) => candidate.id === variantId);
  if (!variant) throw new NotFoundError('Variant');
  return variant;
}

export class VariantService {
  /** Adds a variant; it must name one value of every option of the product, in a combination no other variant has. */
  async add(productId: string, viewer: Viewer, input: VariantInput): Promise<VariantView> {
    try {
      const variantId = await inTransaction(async (transaction) => {
        transaction.afterCommit(forgetCatalogCaches);
        const product = await lockProductForChange(productId, viewer, transaction);
        const variants = await liveVariants(productId, transaction);
        if (variants.length >= MAX_VARIANTS) throw new ValidationError([{ field: 'variants', message: `a product has at most ${MAX_VARIANTS} variants` }]);
        checkVariantOptions(product.options, [...variants, { options: input.options, id: 'new' }]);
        const position = variants.reduce((last, variant) => Math.max(last, variant.position), -1) + 1;
        const [id] = await insertVariants({ id: productId, sellerId: product.seller_id, options: product.options }, [input], position, transaction);
        await refreshProductFromVariants(productId, transaction);
        await recordProductEvent('product.updated', productId, transaction);
        return id;
      }, { name: 'variant add' });
      logger.info('variant added', { productId, variantId, by: viewer.id });
      return await this.view(variantId);
    } catch (error) {
      throw variantWriteError(error);
    }
  }

  /** Changes a live variant; the last active one cannot be made inactive (409 LAST_VARIANT). */
  async update(productId: string, variantId: string, viewer: Viewer, changes: VariantChanges): Promise<VariantView> {
    try {
      await inTransaction(async (transaction) => {
        transaction.afterCommit(forgetCatalogCaches);
        const product = await lockProductForChange(productId, viewer, transaction);
        const variants = await liveVariants(productId, transaction);
        const variant = findLive(variants, variantId);
        if (changes.options !== undefined) {
          checkVariantOptions(product.options, variants.map((other) => (other.id === variantId ? { ...other, options: changes.options! } : other)));
        }
        if (changes.status === 'inactive' && variant.status === 'active') this.keepAnActiveVariant(variants, variantId);
        const title = changes.title ?? (changes.options !== undefined ? variantTitle(product.options, changes.options) : undefined);
        await changeVariant(variant, { ...changes, title }, transaction);
        await refreshProductFromVariants(productId, transaction);
        await recordProductEvent('product.updated', productId, transaction);
      }, { name: 'variant update' });
      return await this.view(variantId);
    } catch (error) {
      throw variantWriteError(error);
    }
  }

  /** Soft-deletes a variant (order lines keep it; its SKU becomes free); never the last active one (409 LAST_VARIANT). */
  async remove(productId: string, variantId: string, viewer: Viewer): Promise<void> {
    await inTransaction(async (transaction) => {
      transaction.afterCommit(forgetCatalogCaches);
      await lockProductForChange(productId, viewer, transaction);
      const variants = await liveVariants(productId, transaction);
      const variant = findLive(variants, variantId);
      if (variant.status === 'active') this.keepAnActiveVariant(variants, variantId);
      await queryRows('UPDATE product_variants SET deleted_at = now(), updated_at = now() WHERE id = $variantId', { variantId }, transaction);
      await refreshProductFromVariants(productId, transaction);
      await recordProductEvent('product.updated', productId, transaction);
    }, { name: 'variant delete' });
    logger.info('variant deleted', { productId, variantId, by: viewer.id });
  }

  private keepAnActiveVariant(variants: LiveVariantRow[], leaving: string): void {
    if (!variants.some((variant) => variant.id !== leaving && variant.status === 'active')) throw lastVariant();
  }

  /** The variant as its seller sees it (private columns included). */
  private async view(variantId: string, transaction?: Transaction): Promise<VariantView> {
    const [row] = await queryRows<VariantRow>(
      `SELECT id, sku, title, options, price::text AS price, compare_price::text AS "comparePrice", cost_price::text AS "costPrice",
              stock_quantity AS "stockQuantity", low_stock_threshold AS "lowStockThreshold", images, status
         FROM product_variants WHERE id = $variantId`,
      { variantId },
      transaction,
    );
    return serializeVariant(row, { private: true });
  }
}

export const variantService = new VariantService();
