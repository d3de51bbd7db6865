import { QueryTypes } from 'sequelize';
import request from 'supertest';
import { createMigrator } from '../../src/platform/db/migrator';
import { createAdmin, createSeller, createUser } from '../fixtures';
import { useTestApp } from '../support/app';
import { login } from '../support/auth';
import { ADDRESS } from '../support/orders';

/**
 * Migration 0013 on a database with a paid order from before pricing (one tax figure and one
 * flat shipping fee on the order): its lines get their share of the tax, its shipping becomes the
 * platform's parcel, and it still reads, refunds and adds up as before.
 */
describe('migration 0013: orders from before pricing', () => {
  const ctx = useTestApp();

  async function run(sql: string, bind: Record<string, unknown> = {}): Promise<Array<Record<string, unknown>>> {
    return ctx.db.sequelize.query<Record<string, unknown>>(sql, { bind, type: QueryTypes.SELECT });
  }

  it('splits the tax over the lines, keeps the shipping the platform’s, and refunds everything to the cent', async () => {
    const migrator = createMigrator(ctx.db.sequelize);
    await migrator.down({ to: '0013-pricing' });

    const { user: seller } = await createSeller();
    const buyer = await createUser();
    // Raw SQL: the models describe the latest schema. 10.00 + 20.00, 8.25 % tax (2.48), 5.99 shipping.
    const [order] = await run(
      `INSERT INTO orders (order_number, user_id, subtotal, tax_amount, shipping_amount, total_amount, amount_paid, status, payment_status, payment_provider,
                           paid_at, shipping_address)
       VALUES ('ORD-20261201-OLDTAX', $userId, 30.00, 2.48, 5.99, 38.47, 38.47, 'confirmed', 'paid', 'manual', now(), $address::jsonb) RETURNING id`,
      { userId: buyer.id, address: JSON.stringify(ADDRESS) },
    );
    for (const [name, price] of [
      ['Old Pen', '10.00'],
      ['Old Ink', '20.00'],
    ]) {
      const [line] = await run(
        `INSERT INTO order_items (order_id, seller_id, product_name, product_sku, unit_price, quantity, line_total, commission_rate)
         VALUES ($orderId, $sellerId, $name, 'OLD', $price, 1, $price, 0.1) RETURNING id`,
        { orderId: order.id, sellerId: seller.id, name, price },
      );
      await run(
        `INSERT INTO seller_ledger_entries (seller_id, type, amount, order_id, order_item_id, occurred_at)
         VALUES ($sellerId, 'sale', $price, $orderId, $lineId, now()), ($sellerId, 'commission', -round($price::numeric * 0.1, 2), $orderId, $lineId, now())`,
        { sellerId: seller.id, price, orderId: order.id, lineId: line.id },
      );
    }
    await run(`INSERT INTO transactions (order_id, type, provider, amount, currency, status) VALUES ($orderId, 'payment', 'manual', 38.47, 'usd', 'succeeded')`, {
      orderId: order.id,
    });
    await run(
      `INSERT INTO sales_days (day, orders, amount_paid, tax_shipping, commission) VALUES ((now() AT TIME ZONE 'UTC')::date, 1, 38.47, 8.47, 3.00)`,
    );

    await migrator.up();

    const bearer = `Bearer ${(await login(ctx.app, buyer.email)).accessToken}`;
    const shown = await request(ctx.app).get(`/api/orders/${order.id}`).set('Authorization', bearer).expect(200);
    expect(shown.body.data.items.map((item: { lineTotal: string; taxAmount: string; discountAmount: string }) => [item.lineTotal, item.discountAmount, item.taxAmount]).sort()).toEqual([
      ['10.00', '0.00', '0.83'],
      ['20.00', '0.00', '1.65'],
    ]);
    expect(shown.body.data.shipping).toEqual([{ sellerId: seller.id, rateId: null, name: 'Standard', estimatedDays: null, amount: '5.99', discountAmount: '0.00', taxAmount: '0.00' }]);
    const [day] = await run(`SELECT tax::text, shipping::text FROM sales_days`);
    expect(day).toEqual({ tax: '2.48', shipping: '0.00' });

    const admin = await createAdmin();
    const adminBearer = `Bearer ${(await login(ctx.app, admin.email)).accessToken}`;
    await request(ctx.app).post(`/api/admin/orders/${order.id}/refund`).set('Authorization', adminBearer).send({}).expect(200);
    const [after] = await run(
      `SELECT o.amount_refunded::text AS refunded,
              (SELECT sum(paid_amount - paid_refunded) FROM order_items WHERE order_id = o.id)::text AS lines_left,
              (SELECT sum(paid_amount - paid_refunded) FROM order_shipping WHERE order_id = o.id)::text AS shipping_left,
              (SELECT sum(amount) FROM seller_ledger_entries WHERE order_id = o.id)::text AS ledger
         FROM orders o WHERE o.id = $id`,
      { id: order.id },
    );
    expect(after).toEqual({ refunded: '38.47', lines_left: '0.00', shipping_left: '0.00', ledger: '0.00' });
  });
});
