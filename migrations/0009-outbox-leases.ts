import type { MigrationFn } from '../src/platform/db/migrator';

/**
 * Outbox rows held by a process that runs their jobs in its own memory (no Redis): a lease the
 * process renews while it holds them (a process that dies stops renewing, and the rows are due
 * again when it ends), the runs of the job that failed (so a job taken up again keeps its count),
 * and the time a job failed its last attempt (the row is then kept, with its payload, for a person).
 */
export const up: MigrationFn = async ({ context: { sequelize } }) => {
  await sequelize.transaction(async (transaction) => {
    const run = (sql: string) => sequelize.query(sql, { transaction });
    await run(`ALTER TABLE outbox
  ADD COLUMN locked_until timestamptz,
  ADD COLUMN failed_runs integer NOT NULL DEFAULT 0 CONSTRAINT outbox_failed_runs_check CHECK (failed_runs >= 0),
  ADD COLUMN dead_at timestamptz`);
    await run(`CREATE INDEX outbox_dead_at_idx ON outbox (dead_at) WHERE dead_at IS NOT NULL`);
  });
};

export const down: MigrationFn = async ({ context: { sequelize } }) => {
  await sequelize.query('ALTER TABLE outbox DROP COLUMN locked_until, DROP COLUMN failed_runs, DROP COLUMN dead_at');
};
