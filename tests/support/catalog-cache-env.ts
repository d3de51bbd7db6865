// Imported first: this file tests the catalog caches, which the other tests turn off.
process.env.LISTING_TOTALS_TTL_MS = '60000';
process.env.PUBLIC_CACHE_TTL_MS = '60000';
