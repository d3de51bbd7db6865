import type { MigrationFn } from '../src/platform/db/migrator';

/**
 * A session remembers the hash of the refresh token its last rotation replaced. Reuse detection
 * revokes a session only when that token is presented again (proof that a copy of a real token
 * was used), not for any `<sessionId>.<random>`: session ids are readable in every access token.
 */

export const up: MigrationFn = async ({ context: { sequelize } }) => {
  await sequelize.query(`ALTER TABLE user_sessions ADD COLUMN previous_refresh_token_hash varchar(64)`);
};

export const down: MigrationFn = async ({ context: { sequelize } }) => {
  await sequelize.query(`ALTER TABLE user_sessions DROP COLUMN previous_refresh_token_hash`);
};
