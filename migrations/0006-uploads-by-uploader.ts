import type { MigrationFn } from '../src/platform/db/migrator';

/** The hourly upload cap counts a user's uploads of the last hour: by uploader and time, from the index. */
export const up: MigrationFn = async ({ context: { sequelize } }) => {
  await sequelize.query('CREATE INDEX uploads_uploader_id_created_at_idx ON uploads (uploader_id, created_at)');
};

export const down: MigrationFn = async ({ context: { sequelize } }) => {
  await sequelize.query('DROP INDEX uploads_uploader_id_created_at_idx');
};
