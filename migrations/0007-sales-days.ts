import type { MigrationFn } from '../src/platform/db/migrator';

/**
 * Sales per UTC day, kept with the money events (a payment adds its order, a refund takes the
 * commission it gives back from its order's payment day), so that a period's figures sum a row
 * a day instead of every order and line. Built here from the orders already paid.
 */
export const up: MigrationFn = async ({ context: { sequelize } }) => {
  await sequelize.transaction(async (transaction) => {
    await sequelize.query(
      `CREATE TABLE sales_days (
  day date PRIMARY KEY,
  orders integer NOT NULL DEFAULT 0 CONSTRAINT sales_days_orders_check CHECK (orders >= 0),
  amount_paid numeric(16,2) NOT NULL DEFAULT 0,
  tax_shipping numeric(16,2) NOT NULL DEFAULT 0,
  commission numeric(16,2) NOT NULL DEFAULT 0,
  updated_at timestamptz NOT NULL DEFAULT now()
)`,
      { transaction },
    );
    await sequelize.query(
      `INSERT INTO sales_days (day, orders, amount_paid, tax_shipping, commission)
       SELECT (o.paid_at AT TIME ZONE 'UTC')::date, count(*), sum(o.amount_paid), sum(o.tax_amount + o.shipping_amount), coalesce(sum(c.commission), 0)
         FROM orders o
         LEFT JOIN LATERAL (SELECT sum(round((line_total - refunded_amount) * commission_rate, 2)) AS commission FROM order_items WHERE order_id = o.id) c ON true
        WHERE o.paid_at IS NOT NULL AND o.payment_status IN ('paid', 'partially_refunded', 'refunded')
        GROUP BY 1`,
      { transaction },
    );
  });
};

export const down: MigrationFn = async ({ context: { sequelize } }) => {
  await sequelize.query('DROP TABLE sales_days');
};
