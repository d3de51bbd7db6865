import type { MigrationFn } from '../src/platform/db/migrator';

/**
 * What the order path needs beyond the initial schema:
 * - `outbox`: side effects (mails, jobs) recorded in the transaction of the change they follow,
 *   relayed to the job queue after it commits (src/platform/jobs/outbox.ts).
 * - order lines snapshot the commission rate of their seller at checkout.
 * - money columns that sum many lines are numeric(14,2): 100 lines of 1000 × 999,999.99 fit,
 *   where numeric(10,2) overflowed on a single such line.
 * - products remember that their low-stock mail went out, so a seller gets one per crossing.
 */

const WIDENED: Record<string, string[]> = {
  orders: ['subtotal', 'tax_amount', 'shipping_amount', 'discount_amount', 'total_amount', 'amount_paid', 'amount_refunded'],
  order_items: ['line_total', 'refunded_amount'],
  transactions: ['amount'],
  refunds: ['amount'],
  seller_payouts: ['gross_amount', 'commission_amount', 'refund_amount', 'net_amount'],
};

export const up: MigrationFn = async ({ context: { sequelize } }) => {
  await sequelize.transaction(async (transaction) => {
    const run = (sql: string) => sequelize.query(sql, { transaction });
    await run(`CREATE TABLE outbox (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  type varchar(100) NOT NULL,
  payload jsonb NOT NULL,
  job_id varchar(255),
  available_at timestamptz NOT NULL DEFAULT now(),
  sent_at timestamptz,
  attempts integer NOT NULL DEFAULT 0 CONSTRAINT outbox_attempts_check CHECK (attempts >= 0),
  last_error text,
  created_at timestamptz NOT NULL DEFAULT now()
)`);
    // The relay's scan: unsent rows that are due, oldest first.
    await run(`CREATE INDEX outbox_unsent_available_at_idx ON outbox (available_at) WHERE sent_at IS NULL`);
    await run(`CREATE INDEX outbox_sent_at_idx ON outbox (sent_at) WHERE sent_at IS NOT NULL`);

    for (const [table, columns] of Object.entries(WIDENED)) {
      await run(`ALTER TABLE ${table} ${columns.map((column) => `ALTER COLUMN ${column} TYPE numeric(14,2)`).join(', ')}`);
    }

    await run(`ALTER TABLE order_items ADD COLUMN commission_rate numeric(5,4) NOT NULL DEFAULT 0
  CONSTRAINT order_items_commission_rate_check CHECK (commission_rate >= 0 AND commission_rate <= 1)`);
    await run(`ALTER TABLE order_items ALTER COLUMN commission_rate DROP DEFAULT`);
    // The seller dashboard and the admin's sellerId filter: the orders holding a seller's lines.
    await run(`CREATE INDEX order_items_seller_id_order_id_idx ON order_items (seller_id, order_id)`);

    await run(`ALTER TABLE products ADD COLUMN low_stock_alerted_at timestamptz`);
  });
};

export const down: MigrationFn = async ({ context: { sequelize } }) => {
  await sequelize.transaction(async (transaction) => {
    const run = (sql: string) => sequelize.query(sql, { transaction });
    await run(`ALTER TABLE products DROP COLUMN low_stock_alerted_at`);
    await run(`DROP INDEX order_items_seller_id_order_id_idx`);
    await run(`ALTER TABLE order_items DROP COLUMN commission_rate`);
    for (const [table, columns] of Object.entries(WIDENED)) {
      await run(`ALTER TABLE ${table} ${columns.map((column) => `ALTER COLUMN ${column} TYPE numeric(10,2)`).join(', ')}`);
    }
    await run(`DROP TABLE outbox`);
  });
};
