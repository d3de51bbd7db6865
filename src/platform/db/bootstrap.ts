import type { Sequelize } from 'sequelize-typescript';
import { config } from '../config';
import { logger } from '../utils/logger';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './embedded-postgres';
import { initDatabase } from './index';
import { createMigrator, type MigrationKind } from './migrator';

export const EMBEDDED_DATABASE_NAME = 'marketplace';

export interface DatabaseConnection {
  sequelize: Sequelize;
  /** Set when the configured database is the embedded one (DATABASE_URL and DB_HOST unset). */
  embedded?: EmbeddedPostgres;
}

/** Connects to DATABASE_URL / DB_HOST…, or starts (or joins) the embedded PostgreSQL of DATA_DIR. */
export async function connectDatabase(): Promise<DatabaseConnection> {
  let url = config.db.url;
  let embedded: EmbeddedPostgres | undefined;
  if (!url) {
    embedded = await startEmbeddedPostgres({
      dataDir: config.dataDir,
      database: EMBEDDED_DATABASE_NAME,
      port: config.db.embeddedPort,
      log: (message) => logger.info(message),
    });
    url = embedded.url;
  }
  const sequelize = initDatabase(url, { poolMax: config.db.poolMax });
  await sequelize.authenticate();
  return { sequelize, embedded };
}

// Any fixed 64-bit number; every process that migrates takes the same lock.
const MIGRATION_LOCK = 7_346_512_001;

/**
 * Runs pending migrations (or seeders) under a PostgreSQL advisory lock, so several API
 * processes starting at once migrate one after the other instead of racing.
 */
export async function runPending(sequelize: Sequelize, kind: MigrationKind = 'migrations'): Promise<string[]> {
  const [lockConnection, release] = await (async () => {
    const connection = await sequelize.connectionManager.getConnection({ type: 'write' });
    return [connection, () => sequelize.connectionManager.releaseConnection(connection)] as const;
  })();
  const client = lockConnection as unknown as { query(sql: string, values?: unknown[]): Promise<unknown> };
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    const applied = await createMigrator(sequelize, kind).up();
    return applied.map((migration) => migration.name);
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    release();
  }
}
