import { randomBytes } from 'node:crypto';
import { Op } from 'sequelize';
import { config } from '../src/platform/config';
import { generateCatalog } from '../src/seed/catalog';
import type { MigrationFn } from '../src/platform/db/migrator';
import { Product, SellerProfile, User } from '../src/models';
import { hashPassword } from '../src/platform/utils/password';
import { logger } from '../src/platform/utils/logger';

export const DEMO_CUSTOMER_EMAIL = 'demo.customer@example.com';
export const DEMO_SELLER_PREFIX = 'demo.seller';

/**
 * Demo data for a first start: the category tree, two approved sellers with 50 products, and a
 * customer. Passwords are random and printed once, here; they are stored only as hashes.
 */
export const up: MigrationFn = async ({ context: { sequelize } }) => {
  // Whoever runs it (the server's first start, `npm run seed`): demo accounts have published
  // emails and passwords written to the log, so they must never exist in production.
  if (config.isProduction) {
    throw new Error('The demo data is for development and tests; it is never seeded in production (NODE_ENV=production)');
  }
  const sellerPassword = randomBytes(9).toString('base64url');
  const customerPassword = randomBytes(9).toString('base64url');
  await generateCatalog(sequelize as never, {
    products: 50,
    sellers: 2,
    sellerPassword,
    sellerEmailPrefix: DEMO_SELLER_PREFIX,
    bcryptRounds: config.bcryptRounds,
    seed: 42,
  });
  await User.create({
    email: DEMO_CUSTOMER_EMAIL,
    password: await hashPassword(customerPassword, config.bcryptRounds),
    name: 'Demo Customer',
    role: 'customer',
    status: 'approved',
    emailVerified: true,
  });
  logger.info('demo data created; these passwords are shown only once', {
    customer: `${DEMO_CUSTOMER_EMAIL} / ${customerPassword}`,
    sellers: `${DEMO_SELLER_PREFIX}-1@example.com, ${DEMO_SELLER_PREFIX}-2@example.com / ${sellerPassword}`,
  });
};

export const down: MigrationFn = async ({ context: { sequelize } }) => {
  await sequelize.transaction(async (transaction) => {
    const sellers = await User.findAll({ where: { email: { [Op.like]: `${DEMO_SELLER_PREFIX}-%@example.com` } }, transaction });
    const sellerIds = sellers.map((seller) => seller.id);
    await Product.destroy({ where: { sellerId: sellerIds }, force: true, transaction });
    await SellerProfile.destroy({ where: { userId: sellerIds }, transaction });
    await User.destroy({ where: { id: sellerIds }, transaction });
    await User.destroy({ where: { email: DEMO_CUSTOMER_EMAIL }, transaction });
  });
};
