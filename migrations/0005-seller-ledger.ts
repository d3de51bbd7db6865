import type { MigrationFn } from '../src/platform/db/migrator';

/**
 * The seller ledger: an append-only journal of what each seller is owed. A paid order writes a
 * sale and a commission entry per line; a refund writes a refund entry per line it touches and
 * the commission given back; a payout claims the entries it pays (payout_id) and writes one
 * payout entry. Balances and statistics are SQL aggregates over it. Entries are never updated
 * but for the payout claim.
 */
export const up: MigrationFn = async ({ context: { sequelize } }) => {
  await sequelize.transaction(async (transaction) => {
    const run = (sql: string) => sequelize.query(sql, { transaction });
    await run(`CREATE TYPE enum_seller_ledger_entries_type AS ENUM ('sale', 'commission', 'refund', 'payout')`);
    await run(`CREATE TABLE seller_ledger_entries (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  seller_id uuid NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
  type enum_seller_ledger_entries_type NOT NULL,
  amount numeric(14,2) NOT NULL,
  order_id uuid REFERENCES orders (id) ON DELETE RESTRICT,
  order_item_id uuid REFERENCES order_items (id) ON DELETE RESTRICT,
  refund_id uuid REFERENCES refunds (id) ON DELETE RESTRICT,
  payout_id uuid REFERENCES seller_payouts (id) ON DELETE RESTRICT,
  occurred_at timestamptz NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT seller_ledger_entries_sign_check CHECK (
    (type = 'sale' AND amount >= 0) OR (type = 'refund' AND amount <= 0) OR (type = 'payout' AND amount <= 0) OR type = 'commission'),
  CONSTRAINT seller_ledger_entries_line_check CHECK (type = 'payout' OR order_item_id IS NOT NULL)
)`);
    await run(`CREATE INDEX seller_ledger_entries_seller_id_occurred_at_idx ON seller_ledger_entries (seller_id, occurred_at)`);
    // What the payout run and the balances read: a seller's entries not yet in a payout.
    await run(`CREATE INDEX seller_ledger_entries_unpaid_seller_id_idx ON seller_ledger_entries (seller_id) WHERE payout_id IS NULL`);
    await run(`CREATE INDEX seller_ledger_entries_payout_id_idx ON seller_ledger_entries (payout_id)`);
    await run(`CREATE INDEX seller_ledger_entries_order_item_id_idx ON seller_ledger_entries (order_item_id)`);
    // A line is sold once; a refund touches a line once; a payout is entered once.
    await run(`CREATE UNIQUE INDEX seller_ledger_entries_sale_key ON seller_ledger_entries (order_item_id, type) WHERE refund_id IS NULL AND type <> 'payout'`);
    await run(`CREATE UNIQUE INDEX seller_ledger_entries_refund_key ON seller_ledger_entries (refund_id, order_item_id, type) WHERE refund_id IS NOT NULL`);
    await run(`CREATE UNIQUE INDEX seller_ledger_entries_payout_key ON seller_ledger_entries (payout_id) WHERE type = 'payout'`);

    // Commission given back on refunds can outweigh a period's new commission.
    await run(`ALTER TABLE seller_payouts DROP CONSTRAINT seller_payouts_commission_amount_check`);
    await run(`ALTER TABLE seller_payouts ADD COLUMN transfer_id varchar(255), ADD COLUMN failure_reason text`);
    await run(`CREATE INDEX seller_payouts_seller_id_created_at_idx ON seller_payouts (seller_id, created_at)`);
    // The statistics: orders by payment time.
    await run(`CREATE INDEX orders_paid_at_idx ON orders (paid_at) WHERE paid_at IS NOT NULL`);
    await run(`CREATE INDEX transactions_type_status_created_at_idx ON transactions (type, status, created_at)`);
    // An order's lines with what the statistics sum: a period's figures are read from the index alone.
    await run(`CREATE INDEX order_items_order_id_figures_idx ON order_items (order_id)
  INCLUDE (seller_id, product_id, quantity, line_total, refunded_amount, commission_rate)`);
    await run(`DROP INDEX order_items_order_id_idx`);
  });
};

export const down: MigrationFn = async ({ context: { sequelize } }) => {
  await sequelize.transaction(async (transaction) => {
    const run = (sql: string) => sequelize.query(sql, { transaction });
    await run(`CREATE INDEX order_items_order_id_idx ON order_items (order_id)`);
    await run(`DROP INDEX order_items_order_id_figures_idx`);
    await run(`DROP INDEX transactions_type_status_created_at_idx`);
    await run(`DROP INDEX orders_paid_at_idx`);
    await run(`DROP INDEX seller_payouts_seller_id_created_at_idx`);
    await run(`ALTER TABLE seller_payouts DROP COLUMN transfer_id, DROP COLUMN failure_reason`);
    await run(`ALTER TABLE seller_payouts ADD CONSTRAINT seller_payouts_commission_amount_check CHECK (commission_amount >= 0)`);
    await run(`DROP TABLE seller_ledger_entries`);
    await run(`DROP TYPE enum_seller_ledger_entries_type`);
  });
};
