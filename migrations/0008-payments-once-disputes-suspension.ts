import type { MigrationFn } from '../src/platform/db/migrator';

/**
 * What keeps money right when requests race, payments arrive late and sellers are suspended:
 * - `orders.intent_attempt`: the attempt whose idempotency key the order's payment intent is
 *   created with; it moves on only past a canceled intent, under the order's row lock, so two
 *   requests at once ask the provider with one key and get one intent.
 * - `transactions.surplus`: a successful payment beyond the one that paid the order (a card payment
 *   landing after a manual one, a second intent): outside the order's amounts, refunded by a job.
 * - `refunds.payment_transaction_id`: the payment a refund goes back to (a surplus payment);
 *   `refunds.item_ids`: the lines a refund is for (an admin cancelling the lines not shipped yet);
 *   `refunds.provider_failures`: calls the provider did not answer, so that an admin's retry of a
 *   refund that answered 502 completes that refund instead of making another.
 * - `disputes`: a card dispute per provider dispute id; while open its order's lines are not payable.
 * - ledger entries of type `dispute`: a lost dispute takes back the seller's net share, once per line.
 * - product status `suspended`: a suspended seller's products, with the status they go back to.
 */
export const up: MigrationFn = async ({ context: { sequelize } }) => {
  // New enum values cannot be used in the transaction that adds them; they are added first.
  await sequelize.query(`ALTER TYPE enum_seller_ledger_entries_type ADD VALUE IF NOT EXISTS 'dispute'`);
  await sequelize.query(`ALTER TYPE enum_products_status ADD VALUE IF NOT EXISTS 'suspended'`);
  await sequelize.transaction(async (transaction) => {
    const run = (sql: string) => sequelize.query(sql, { transaction });
    await run(`ALTER TABLE orders ADD COLUMN intent_attempt integer NOT NULL DEFAULT 0 CONSTRAINT orders_intent_attempt_check CHECK (intent_attempt >= 0)`);
    // Orders made before this had their keys counted from their card payment rows.
    await run(`UPDATE orders o SET intent_attempt = (SELECT count(*) FROM transactions t WHERE t.order_id = o.id AND t.type = 'payment' AND t.provider = 'stripe')
  WHERE payment_intent_id IS NOT NULL`);
    await run(`ALTER TABLE transactions ADD COLUMN surplus boolean NOT NULL DEFAULT false`);
    await run(`CREATE INDEX transactions_surplus_created_at_idx ON transactions (created_at) WHERE surplus`);
    await run(`ALTER TABLE refunds ADD COLUMN payment_transaction_id uuid REFERENCES transactions (id) ON DELETE RESTRICT, ADD COLUMN item_ids uuid[],
  ADD COLUMN provider_failures integer NOT NULL DEFAULT 0 CONSTRAINT refunds_provider_failures_check CHECK (provider_failures >= 0)`);
    // One automatic refund per surplus payment, however often the payment is reported.
    await run(`CREATE UNIQUE INDEX refunds_payment_transaction_id_key ON refunds (payment_transaction_id) WHERE payment_transaction_id IS NOT NULL`);
    // The sweep of refunds left pending (a provider that did not answer, a process that died).
    await run(`CREATE INDEX refunds_pending_updated_at_idx ON refunds (updated_at) WHERE status = 'pending'`);

    await run(`CREATE TABLE disputes (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  order_id uuid NOT NULL REFERENCES orders (id) ON DELETE RESTRICT,
  provider_dispute_id varchar(255) NOT NULL,
  payment_reference varchar(255) NOT NULL,
  amount numeric(14,2) NOT NULL CONSTRAINT disputes_amount_check CHECK (amount >= 0),
  currency char(3) NOT NULL,
  reason varchar(100),
  status varchar(10) NOT NULL DEFAULT 'open' CONSTRAINT disputes_status_check CHECK (status IN ('open', 'won', 'lost')),
  closed_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT disputes_closed_check CHECK ((status = 'open') = (closed_at IS NULL))
)`);
    await run(`CREATE UNIQUE INDEX disputes_provider_dispute_id_key ON disputes (provider_dispute_id)`);
    await run(`CREATE INDEX disputes_order_id_idx ON disputes (order_id)`);
    await run(`CREATE INDEX disputes_status_created_at_idx ON disputes (status, created_at)`);

    await run(`ALTER TABLE seller_ledger_entries ADD COLUMN dispute_id uuid REFERENCES disputes (id) ON DELETE RESTRICT`);
    await run(`ALTER TABLE seller_ledger_entries DROP CONSTRAINT seller_ledger_entries_sign_check`);
    await run(`ALTER TABLE seller_ledger_entries ADD CONSTRAINT seller_ledger_entries_sign_check CHECK (
    (type = 'sale' AND amount >= 0) OR (type = 'refund' AND amount <= 0) OR (type = 'payout' AND amount <= 0)
    OR (type = 'dispute' AND amount <= 0 AND dispute_id IS NOT NULL) OR type = 'commission')`);
    // A line is sold once; a dispute takes back a line once.
    await run(`DROP INDEX seller_ledger_entries_sale_key`);
    await run(`CREATE UNIQUE INDEX seller_ledger_entries_sale_key ON seller_ledger_entries (order_item_id, type)
  WHERE refund_id IS NULL AND dispute_id IS NULL AND type <> 'payout'`);
    await run(`CREATE UNIQUE INDEX seller_ledger_entries_dispute_key ON seller_ledger_entries (dispute_id, order_item_id) WHERE dispute_id IS NOT NULL`);

    await run(`ALTER TABLE products ADD COLUMN status_before_suspension varchar(20)`);
  });
};

export const down: MigrationFn = async ({ context: { sequelize } }) => {
  await sequelize.transaction(async (transaction) => {
    const run = (sql: string) => sequelize.query(sql, { transaction });
    await run(`UPDATE products SET status = status_before_suspension::enum_products_status WHERE status = 'suspended'`);
    await run(`ALTER TABLE products DROP COLUMN status_before_suspension`);
    await run(`DELETE FROM seller_ledger_entries WHERE type = 'dispute'`);
    await run(`DROP INDEX seller_ledger_entries_dispute_key`);
    await run(`DROP INDEX seller_ledger_entries_sale_key`);
    await run(`CREATE UNIQUE INDEX seller_ledger_entries_sale_key ON seller_ledger_entries (order_item_id, type) WHERE refund_id IS NULL AND type <> 'payout'`);
    await run(`ALTER TABLE seller_ledger_entries DROP CONSTRAINT seller_ledger_entries_sign_check`);
    await run(`ALTER TABLE seller_ledger_entries ADD CONSTRAINT seller_ledger_entries_sign_check CHECK (
    (type = 'sale' AND amount >= 0) OR (type = 'refund' AND amount <= 0) OR (type = 'payout' AND amount <= 0) OR type = 'commission')`);
    await run(`ALTER TABLE seller_ledger_entries DROP COLUMN dispute_id`);
    await run(`DROP TABLE disputes`);
    await run(`DROP INDEX refunds_pending_updated_at_idx`);
    await run(`DROP INDEX refunds_payment_transaction_id_key`);
    await run(`ALTER TABLE refunds DROP COLUMN payment_transaction_id, DROP COLUMN item_ids, DROP COLUMN provider_failures`);
    await run(`DROP INDEX transactions_surplus_created_at_idx`);
    await run(`ALTER TABLE transactions DROP COLUMN surplus`);
    await run(`ALTER TABLE orders DROP COLUMN intent_attempt`);
    // PostgreSQL cannot drop an enum value: 'dispute' and 'suspended' stay, unused.
  });
};
