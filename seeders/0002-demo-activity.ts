import { randomBytes } from 'node:crypto';
import { config } from '../src/platform/config';
import type { MigrationFn } from '../src/platform/db/migrator';
import { queryRows } from '../src/platform/db/query';
import { User } from '../src/models';
import { reviewService } from '../src/modules/catalog';
import { ledgerService, payoutService } from '../src/modules/finance';
import { cancellationService, cartService, checkoutService } from '../src/modules/order';
import { intentService, refundService } from '../src/modules/payment';
import { generateOrders } from '../src/seed/orders';
import { hashPassword } from '../src/platform/utils/password';
import { logger } from '../src/platform/utils/logger';
import { DEMO_CUSTOMER_EMAIL, DEMO_SELLER_PREFIX } from './0001-demo-data';

export const DEMO_ADMIN_EMAIL = 'demo.admin@example.com';

const ADDRESS = { firstName: 'Demo', lastName: 'Customer', address1: '12 St James Square', city: 'London', postalCode: 'SW1Y 4JH', country: 'GB' };

/**
 * Activity for the demo's dashboards: an admin (password printed once), three months of paid
 * order history of the demo sellers (delivered, some refunded, with the ledger and the sales per
 * day), the demo customer's own orders in every state (placed, paid, shipped, delivered,
 * cancelled, refunded) made through the services, reviews, and the payouts of what is payable,
 * one of them marked paid.
 */
export const up: MigrationFn = async ({ context: { sequelize } }) => {
  if (config.isProduction) {
    throw new Error('The demo data is for development and tests; it is never seeded in production (NODE_ENV=production)');
  }
  const adminPassword = randomBytes(9).toString('base64url');
  const admin = await User.create({
    email: DEMO_ADMIN_EMAIL,
    password: await hashPassword(adminPassword, config.bcryptRounds),
    name: 'Demo Admin',
    role: 'admin',
    status: 'approved',
    emailVerified: true,
  });
  const adminCaller = { id: admin.id, role: admin.role };
  const sellers = await queryRows<{ id: string }>('SELECT id FROM users WHERE email LIKE $pattern', { pattern: `${DEMO_SELLER_PREFIX}-%@example.com` });
  const sellerIds = sellers.map((seller) => seller.id);
  await generateOrders(sequelize as never, { orders: 240, days: 90, sellerIds, bcryptRounds: config.bcryptRounds });

  const customer = await User.findOne({ where: { email: DEMO_CUSTOMER_EMAIL } });
  if (customer) {
    const customerCaller = { id: customer.id, role: customer.role };
    const products = await queryRows<{ id: string }>(
      `SELECT id FROM products
        WHERE status = 'active' AND deleted_at IS NULL AND stock_quantity >= 5 AND seller_id = ANY($sellerIds::uuid[]) AND sku IS NOT NULL
        ORDER BY sku LIMIT 6`,
      { sellerIds },
    );
    const place = async (productId: string) => {
      await cartService.addItem({ userId: customer.id }, { productId }, 1);
      return (await checkoutService.checkout(customerCaller, { shippingAddress: ADDRESS })).order.id;
    };
    const [placed, paid, shipped, delivered, cancelled, refunded] = products.map((product) => product.id);
    if (refunded) {
      await place(placed);
      const paidId = await place(paid);
      await intentService.markPaidManually(paidId, adminCaller, 'DEMO-TRANSFER-1');
      for (const [productId, until] of [
        [shipped, 'shipped'],
        [delivered, 'delivered'],
      ] as const) {
        const id = await place(productId);
        await intentService.markPaidManually(id, adminCaller, `DEMO-TRANSFER-${until}`);
        await cancellationService.adminSetStatus(id, adminCaller, { status: 'shipped', trackingNumber: 'DEMO-TRACK-1' });
        if (until === 'delivered') await cancellationService.adminSetStatus(id, adminCaller, { status: 'delivered' });
      }
      await cancellationService.cancel(await place(cancelled), customerCaller, 'Ordered by mistake');
      const refundedId = await place(refunded);
      await intentService.markPaidManually(refundedId, adminCaller, 'DEMO-TRANSFER-3');
      await refundService.refund(refundedId, adminCaller, { reason: 'Arrived damaged', restock: true });
      await reviewService.create({ id: customer.id, name: customer.name, role: customer.role }, delivered, {
        rating: 5,
        title: 'Just as described',
        comment: 'Arrived quickly and well packed.',
      });
    }
  }

  // Reviews by the customers of lines of the demo sellers they received, and the ratings that follow.
  await queryRows(
    `INSERT INTO reviews (product_id, user_id, order_item_id, rating, title, comment, is_verified_purchase)
     SELECT DISTINCT ON (oi.product_id, o.user_id) oi.product_id, o.user_id, oi.id, 3 + (abs(hashtext(oi.id::text)) % 3),
            'Good value', 'Does what it says; would buy again.', true
       FROM order_items oi JOIN orders o ON o.id = oi.order_id
      WHERE oi.fulfillment_status = 'delivered' AND oi.product_id IS NOT NULL AND oi.seller_id = ANY($sellerIds::uuid[])
        AND NOT EXISTS (SELECT 1 FROM reviews r WHERE r.product_id = oi.product_id AND r.user_id = o.user_id)
      ORDER BY oi.product_id, o.user_id
      LIMIT 60`,
    { sellerIds },
  );
  await queryRows(
    `UPDATE products p SET average_rating = r.average, review_count = r.count, updated_at = now()
       FROM (SELECT product_id, round(avg(rating), 2) AS average, count(*)::int AS count FROM reviews GROUP BY product_id) r
      WHERE p.id = r.product_id`,
    {},
  );

  const payouts = await payoutService.runPayouts();
  const first = payouts.find((payout) => sellerIds.includes(payout.sellerId));
  if (first) await payoutService.markPaid(first.id, 'DEMO-BANK-1');
  logger.info('demo activity created; the admin password is shown only once', {
    admin: `${DEMO_ADMIN_EMAIL} / ${adminPassword}`,
    payouts: payouts.length,
  });
};

/** Takes back what `up` made: every order of the demo sellers' products, their money, the generated customers and the admin. */
export const down: MigrationFn = async ({ context: { sequelize } }) => {
  await sequelize.transaction(async (transaction) => {
    const sellers = await queryRows<{ id: string }>(`SELECT id FROM users WHERE email LIKE $pattern`, { pattern: `${DEMO_SELLER_PREFIX}-%@example.com` }, transaction);
    const sellerIds = sellers.map((seller) => seller.id);
    const orders = `SELECT DISTINCT order_id FROM order_items WHERE seller_id = ANY($sellerIds::uuid[])`;
    await queryRows(`DELETE FROM seller_ledger_entries WHERE seller_id = ANY($sellerIds::uuid[])`, { sellerIds }, transaction);
    await queryRows(`DELETE FROM seller_payouts WHERE seller_id = ANY($sellerIds::uuid[])`, { sellerIds }, transaction);
    for (const table of ['disputes', 'refunds', 'transactions']) {
      await queryRows(`DELETE FROM ${table} WHERE order_id IN (${orders})`, { sellerIds }, transaction);
    }
    await queryRows(`DELETE FROM orders WHERE id IN (${orders})`, { sellerIds }, transaction);
    await queryRows(
      `DELETE FROM users u WHERE (u.email LIKE 'customer-%-%@example.com' OR u.email = $admin)
          AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.user_id = u.id)`,
      { admin: DEMO_ADMIN_EMAIL },
      transaction,
    );
  });
  await ledgerService.rebuildSalesDays();
};
