import type { MigrationFn } from '../src/platform/db/migrator';

/**
 * The statistics' last figures read from raw rows, kept per UTC day or counted over an index:
 * - `sales_days.refunds`: the succeeded refunds made that day (not those of surplus payments),
 *   by the refund transaction's time, kept by the ledger service with each refund. A day with
 *   refunds and no sales has a row with no orders. Built here from the refund transactions,
 *   by the statement `npm run stats:rebuild` runs.
 * - `users (role, created_at)`: the overview's new customers and sellers of a period, counted
 *   from the index alone.
 */
export const up: MigrationFn = async ({ context: { sequelize } }) => {
  await sequelize.transaction(async (transaction) => {
    const run = (sql: string) => sequelize.query(sql, { transaction });
    await run('LOCK TABLE sales_days IN EXCLUSIVE MODE');
    await run('ALTER TABLE sales_days ADD COLUMN refunds numeric(16,2) NOT NULL DEFAULT 0');
    await run(`INSERT INTO sales_days AS d (day, refunds)
SELECT (t.created_at AT TIME ZONE 'UTC')::date, sum(t.amount)
  FROM transactions t
 WHERE t.type = 'refund' AND t.status = 'succeeded' AND NOT t.surplus
 GROUP BY 1
ON CONFLICT (day) DO UPDATE SET refunds = EXCLUDED.refunds`);
    await run('CREATE INDEX users_role_created_at_idx ON users (role, created_at)');
  });
};

export const down: MigrationFn = async ({ context: { sequelize } }) => {
  await sequelize.transaction(async (transaction) => {
    const run = (sql: string) => sequelize.query(sql, { transaction });
    await run('DROP INDEX users_role_created_at_idx');
    // Days that held refunds only.
    await run(`DELETE FROM sales_days WHERE orders = 0 AND amount_paid = 0 AND commission = 0`);
    await run('ALTER TABLE sales_days DROP COLUMN refunds');
  });
};
