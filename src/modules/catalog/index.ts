import { onSellerTrading } from '../accounts';
import { setSellerProductsTrading } from './seller-trading';

/**
 * Catalog: categories, products and their stock, reviews, image uploads, and the caches and
 * view counts of the public catalog. Depends on accounts only.
 */
export { categoryRoutes } from './category.routes';
export { productRoutes } from './product.routes';
export { reviewRoutes } from './review.routes';
export { sellerProductRoutes } from './seller-product.routes';
export { uploadRoutes } from './upload.routes';
export { reviewService } from './review.service';
export { addDefaultVariants, refreshProductsFromVariants } from './variant-store';
export { insufficientStock, restockOrder, restockVariants, takeStock, type AlongsideSteps, type StockLine, type StockShortfall } from './stock.service';
export { startCatalogCacheSync, stopCatalogCacheSync } from './catalog-cache';
export { FLUSH_VIEWS_EVERY_MS, flushViews } from './view-counter.service';

onSellerTrading(setSellerProductsTrading);
