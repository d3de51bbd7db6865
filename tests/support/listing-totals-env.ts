// Imported first: this file tests the reuse of listing totals, which the other tests turn off.
process.env.LISTING_TOTALS_TTL_MS = '60000';
