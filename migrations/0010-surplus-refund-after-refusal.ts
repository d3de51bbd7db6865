import type { MigrationFn } from '../src/platform/db/migrator';

/**
 * A surplus payment is refunded once: at most one refund of it that is pending or made. A refund
 * Stripe refused no longer counts, so a refund of that payment made later in Stripe's dashboard
 * can be recorded beside it.
 */
export const up: MigrationFn = async ({ context: { sequelize } }) => {
  await sequelize.transaction(async (transaction) => {
    const run = (sql: string) => sequelize.query(sql, { transaction });
    await run('DROP INDEX refunds_payment_transaction_id_key');
    await run(`CREATE UNIQUE INDEX refunds_payment_transaction_id_key ON refunds (payment_transaction_id)
                WHERE payment_transaction_id IS NOT NULL AND status <> 'failed'`);
  });
};

export const down: MigrationFn = async ({ context: { sequelize } }) => {
  await sequelize.transaction(async (transaction) => {
    const run = (sql: string) => sequelize.query(sql, { transaction });
    await run('DROP INDEX refunds_payment_transaction_id_key');
    await run(`CREATE UNIQUE INDEX refunds_payment_transaction_id_key ON refunds (payment_transaction_id) WHERE payment_transaction_id IS NOT NULL`);
  });
};
