import { forgetResponses } from '../utils/response-cache';
import { forgetListingTotals } from './listing-totals';

/** After any catalog write (products, categories, reviews): the next reads see it. */
export function forgetCatalogCaches(): void {
  forgetListingTotals();
  forgetResponses();
}
