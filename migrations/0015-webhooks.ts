import type { MigrationFn } from '../src/platform/db/migrator';

/**
 * Outgoing webhooks: endpoints that integrations register (an admin's for any event, a seller's
 * for events of their own orders, products, returns and payouts), and one delivery per event and
 * endpoint, written in the transaction of the change with the outbox job that sends it.
 * - `webhook_endpoints.secret`: the signing secret (`whsec_…`), shown to its owner once.
 * - `webhook_endpoints.failing_since`: the first failure since the last success; an endpoint
 *   failing for 3 days is deactivated.
 * - `webhook_deliveries`: the body each endpoint gets (a seller's filtered to their lines), its
 *   attempts and outcome; `event_id` is the same for every endpoint and every retry of an event.
 */
export const up: MigrationFn = async ({ context: { sequelize } }) => {
  await sequelize.transaction(async (transaction) => {
    const run = (sql: string) => sequelize.query(sql, { transaction });
    await run(`CREATE TABLE webhook_endpoints (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  owner_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  seller_id uuid REFERENCES users (id) ON DELETE CASCADE,
  url varchar(2000) NOT NULL,
  events varchar(50)[] NOT NULL CONSTRAINT webhook_endpoints_events_check CHECK (cardinality(events) BETWEEN 1 AND 20),
  description varchar(500),
  secret varchar(100) NOT NULL,
  active boolean NOT NULL DEFAULT true,
  failing_since timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
)`);
    await run('CREATE INDEX webhook_endpoints_owner_id_created_at_idx ON webhook_endpoints (owner_id, created_at)');
    // What an event reads to find its endpoints: the active ones.
    await run('CREATE INDEX webhook_endpoints_active_seller_id_idx ON webhook_endpoints (seller_id) WHERE active');
    await run(`CREATE TYPE enum_webhook_deliveries_status AS ENUM ('pending', 'succeeded', 'failed')`);
    await run(`CREATE TABLE webhook_deliveries (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  endpoint_id uuid NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
  event_id uuid NOT NULL,
  type varchar(50) NOT NULL,
  payload jsonb NOT NULL,
  status enum_webhook_deliveries_status NOT NULL DEFAULT 'pending',
  attempts integer NOT NULL DEFAULT 0,
  last_status_code integer,
  last_error varchar(500),
  next_attempt_at timestamptz,
  delivered_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
)`);
    await run('CREATE INDEX webhook_deliveries_endpoint_id_created_at_idx ON webhook_deliveries (endpoint_id, created_at)');
  });
};

export const down: MigrationFn = async ({ context: { sequelize } }) => {
  await sequelize.transaction(async (transaction) => {
    const run = (sql: string) => sequelize.query(sql, { transaction });
    await run(`DELETE FROM outbox WHERE type = 'webhooks.deliver'`);
    await run('DROP TABLE webhook_deliveries');
    await run('DROP TYPE enum_webhook_deliveries_status');
    await run('DROP TABLE webhook_endpoints');
  });
};
