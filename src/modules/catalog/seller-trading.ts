import type { Transaction } from 'sequelize';
import { queryRows } from '../../platform/db/query';
import { forgetCatalogCaches } from './catalog-cache';

/**
 * A suspended seller's products leave the catalog (status `suspended`, so carts and checkout
 * refuse them), and come back as they were when the seller is approved again.
 */
export async function setSellerProductsTrading(sellerId: string, trading: boolean, transaction: Transaction): Promise<void> {
  if (trading) {
    await queryRows(
      // Stock may have come back (a cancelled order) while suspended: the status follows it as everywhere else.
      `UPDATE products
          SET status = CASE WHEN status_before_suspension = 'out_of_stock' AND stock_quantity > 0 THEN 'active'::enum_products_status
                            WHEN status_before_suspension = 'active' AND stock_quantity = 0 THEN 'out_of_stock'::enum_products_status
                            ELSE status_before_suspension::enum_products_status END,
              status_before_suspension = NULL, updated_at = now()
        WHERE seller_id = $sellerId AND status = 'suspended'`,
      { sellerId },
      transaction,
    );
  } else {
    await queryRows(
      `UPDATE products SET status_before_suspension = status::text, status = 'suspended', updated_at = now()
        WHERE seller_id = $sellerId AND status <> 'suspended'`,
      { sellerId },
      transaction,
    );
  }
  transaction.afterCommit(forgetCatalogCaches);
}
