import { config } from '../src/platform/config';
import type { MigrationFn } from '../src/platform/db/migrator';
import { queryRows } from '../src/platform/db/query';
import { logger } from '../src/platform/utils/logger';
import { DEMO_SELLER_PREFIX } from './0001-demo-data';

export const DEMO_PROMO_CODE = 'WELCOME10';

/**
 * Pricing for the demo: shipping rates for the demo sellers (the first ships to the US and Canada
 * cheaply, with express in the US and a rate for everywhere else; the second ships everywhere at
 * one price, free over 75), tax rates for California, New York and the United Kingdom, and a live
 * platform code, WELCOME10 (10 % off, once per customer).
 */
export const up: MigrationFn = async ({ context: { sequelize } }) => {
  if (config.isProduction) {
    throw new Error('The demo data is for development and tests; it is never seeded in production (NODE_ENV=production)');
  }
  await sequelize.transaction(async (transaction) => {
    const sellers = await queryRows<{ id: string }>('SELECT id FROM users WHERE email LIKE $pattern ORDER BY email', { pattern: `${DEMO_SELLER_PREFIX}-%@example.com` }, transaction);
    const [first, second] = sellers;
    const rates: Array<[string | undefined, string, string[], string, string | null, number]> = [
      [first?.id, 'Standard', ['US', 'CA'], '4.99', '50.00', 5],
      [first?.id, 'Express', ['US'], '14.99', null, 2],
      [first?.id, 'International', ['*'], '19.99', null, 10],
      [second?.id, 'Tracked parcel', ['*'], '6.00', '75.00', 6],
    ];
    for (const [sellerId, name, countries, price, freeOver, days] of rates) {
      if (!sellerId) continue;
      await queryRows(
        `INSERT INTO shipping_rates (seller_id, name, countries, price, free_over, estimated_days) VALUES ($sellerId, $name, $countries::varchar(2)[], $price, $freeOver, $days)`,
        { sellerId, name, countries, price, freeOver, days },
        transaction,
      );
    }
    await queryRows(
      `INSERT INTO tax_rates (country, state, rate, name, applies_to_shipping) VALUES
         ('US', 'CA', 0.0725, 'California sales tax', true),
         ('US', 'NY', 0.0400, 'New York sales tax', false),
         ('GB', NULL, 0.2000, 'UK VAT', true)
       ON CONFLICT DO NOTHING`,
      {},
      transaction,
    );
    await queryRows(
      `INSERT INTO promotions (code, type, value, usage_limit_per_customer) VALUES ($code, 'percentage', 10, 1) ON CONFLICT DO NOTHING`,
      { code: DEMO_PROMO_CODE },
      transaction,
    );
  });
  logger.info('demo pricing created', { promotionCode: DEMO_PROMO_CODE });
};

export const down: MigrationFn = async ({ context: { sequelize } }) => {
  await sequelize.transaction(async (transaction) => {
    await queryRows(
      `DELETE FROM shipping_rates WHERE seller_id IN (SELECT id FROM users WHERE email LIKE $pattern)`,
      { pattern: `${DEMO_SELLER_PREFIX}-%@example.com` },
      transaction,
    );
    await queryRows(`DELETE FROM tax_rates WHERE (country, coalesce(state, '')) IN (('US', 'CA'), ('US', 'NY'), ('GB', ''))`, {}, transaction);
    // A code orders were placed with stays (they point at it); it is switched off instead.
    await queryRows(
      `WITH unused AS (DELETE FROM promotions p WHERE code = $code AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.promotion_id = p.id) RETURNING id)
       UPDATE promotions SET active = false WHERE code = $code AND NOT EXISTS (SELECT 1 FROM unused)`,
      { code: DEMO_PROMO_CODE },
      transaction,
    );
  });
};
