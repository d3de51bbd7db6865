import type { MigrationFn } from '../src/platform/db/migrator';

/**
 * Returns (RMA): a customer asks to send back units of delivered lines of one seller; the seller
 * or an admin approves or rejects, then receives the parcel, which refunds what was paid for
 * those units.
 * - `returns`: one per request, moved through its states by one conditional UPDATE each, with
 *   `return_status_history` recording every move and its actor; `refund_id` is the refund that
 *   receiving it made.
 * - `return_items`: the units of each line.
 * - `order_items.returned_quantity`: the units of the line in returns not rejected, raised by one
 *   conditional UPDATE when a return is asked and held under the line's quantity by a CHECK, so
 *   returns at once never return more than was bought.
 * - `refunds.return_id`: the return a refund pays back.
 */
export const up: MigrationFn = async ({ context: { sequelize } }) => {
  await sequelize.transaction(async (transaction) => {
    const run = (sql: string) => sequelize.query(sql, { transaction });
    await run(`ALTER TABLE order_items ADD COLUMN returned_quantity integer NOT NULL DEFAULT 0,
  ADD CONSTRAINT order_items_returned_quantity_check CHECK (returned_quantity >= 0 AND returned_quantity <= quantity)`);
    await run(`CREATE TYPE enum_returns_status AS ENUM ('requested', 'approved', 'rejected', 'received', 'refunded')`);
    await run(`CREATE TABLE returns (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  order_id uuid NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
  seller_id uuid NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
  status enum_returns_status NOT NULL DEFAULT 'requested',
  note text,
  restock boolean,
  refund_amount numeric(14,2) NOT NULL DEFAULT 0 CONSTRAINT returns_refund_amount_check CHECK (refund_amount >= 0),
  refund_id uuid REFERENCES refunds (id) ON DELETE RESTRICT,
  received_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
)`);
    await run('CREATE INDEX returns_order_id_idx ON returns (order_id)');
    await run('CREATE INDEX returns_seller_id_created_at_idx ON returns (seller_id, created_at)');
    await run('CREATE INDEX returns_status_created_at_idx ON returns (status, created_at)');
    await run(`CREATE TABLE return_items (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  return_id uuid NOT NULL REFERENCES returns (id) ON DELETE CASCADE,
  order_item_id uuid NOT NULL REFERENCES order_items (id) ON DELETE CASCADE,
  quantity integer NOT NULL CONSTRAINT return_items_quantity_check CHECK (quantity > 0),
  reason varchar(500) NOT NULL
)`);
    await run('CREATE UNIQUE INDEX return_items_return_id_order_item_id_key ON return_items (return_id, order_item_id)');
    await run('CREATE INDEX return_items_order_item_id_idx ON return_items (order_item_id)');
    // One enum type per column, as the models name them.
    for (const column of ['from_status', 'to_status']) {
      await run(`CREATE TYPE enum_return_status_history_${column} AS ENUM ('requested', 'approved', 'rejected', 'received', 'refunded')`);
    }
    await run(`CREATE TYPE enum_return_status_history_actor_role AS ENUM ('customer', 'seller', 'admin', 'system')`);
    await run(`CREATE TABLE return_status_history (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  return_id uuid NOT NULL REFERENCES returns (id) ON DELETE CASCADE,
  from_status enum_return_status_history_from_status,
  to_status enum_return_status_history_to_status NOT NULL,
  note text,
  actor_id uuid REFERENCES users (id) ON DELETE SET NULL,
  actor_role enum_return_status_history_actor_role NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
)`);
    await run('CREATE INDEX return_status_history_return_id_created_at_idx ON return_status_history (return_id, created_at)');
    await run('ALTER TABLE refunds ADD COLUMN return_id uuid REFERENCES returns (id) ON DELETE RESTRICT');
    await run('CREATE UNIQUE INDEX refunds_return_id_key ON refunds (return_id) WHERE return_id IS NOT NULL');
  });
};

export const down: MigrationFn = async ({ context: { sequelize } }) => {
  await sequelize.transaction(async (transaction) => {
    const run = (sql: string) => sequelize.query(sql, { transaction });
    await run('DROP INDEX refunds_return_id_key');
    await run('ALTER TABLE refunds DROP COLUMN return_id');
    await run('DROP TABLE return_status_history');
    await run('DROP TYPE enum_return_status_history_from_status');
    await run('DROP TYPE enum_return_status_history_to_status');
    await run('DROP TYPE enum_return_status_history_actor_role');
    await run('DROP TABLE return_items');
    await run('DROP TABLE returns');
    await run('DROP TYPE enum_returns_status');
    await run('ALTER TABLE order_items DROP COLUMN returned_quantity');
  });
};
