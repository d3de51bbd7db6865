import type { MigrationFn } from '../src/platform/db/migrator';

/**
 * The customers' address book: up to 20 addresses per user (the service holds the count under
 * the user's row lock), at most one default for shipping and one for billing (unique indexes).
 * Orders keep their own copy of the address they ship to.
 */
export const up: MigrationFn = async ({ context: { sequelize } }) => {
  await sequelize.transaction(async (transaction) => {
    const run = (sql: string) => sequelize.query(sql, { transaction });
    await run(`CREATE TABLE user_addresses (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  label varchar(50),
  first_name varchar(100) NOT NULL,
  last_name varchar(100) NOT NULL,
  address1 varchar(200) NOT NULL,
  address2 varchar(200),
  city varchar(100) NOT NULL,
  state varchar(100),
  postal_code varchar(20) NOT NULL,
  country char(2) NOT NULL,
  phone varchar(30),
  is_default_shipping boolean NOT NULL DEFAULT false,
  is_default_billing boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
)`);
    await run('CREATE INDEX user_addresses_user_id_created_at_idx ON user_addresses (user_id, created_at)');
    await run('CREATE UNIQUE INDEX user_addresses_default_shipping_key ON user_addresses (user_id) WHERE is_default_shipping');
    await run('CREATE UNIQUE INDEX user_addresses_default_billing_key ON user_addresses (user_id) WHERE is_default_billing');
  });
};

export const down: MigrationFn = async ({ context: { sequelize } }) => {
  await sequelize.query('DROP TABLE user_addresses');
};
