import { Sequelize } from 'sequelize-typescript';
import { DatabaseError, type Options } from 'sequelize';
import { models } from '../../models';

let instance: Sequelize | undefined;

export interface DatabaseOptions {
  logging?: Options['logging'];
  poolMax?: number;
}

/**
 * What every connection of ours is set to beside Sequelize's own settings. JIT compilation off:
 * our statements take milliseconds, and PostgreSQL compiles a statement whose estimated cost
 * passes jit_above_cost (a year of statistics does) at each run, for tens of milliseconds more
 * than it saves. Sent as a statement, not a startup option, which poolers such as PgBouncer refuse.
 */
export const SESSION_SETTINGS = 'SET jit = off';

/** Binds every model to one Sequelize instance for this process. */
export function initDatabase(url: string, options: DatabaseOptions = {}): Sequelize {
  instance = new Sequelize(url, {
    dialect: 'postgres',
    models,
    logging: options.logging ?? false,
    benchmark: false,
    pool: { max: options.poolMax ?? 10, min: 0, idle: 10_000, acquire: 20_000 },
    define: { underscored: true },
    hooks: {
      afterConnect: async (connection) => {
        await (connection as unknown as { query(sql: string): Promise<unknown> }).query(SESSION_SETTINGS);
      },
    },
  });
  return instance;
}

export function getSequelize(): Sequelize {
  if (!instance) throw new Error('The database is not initialised: call initDatabase() first');
  return instance;
}

/**
 * A pg client connection (one of Sequelize's pool, or of a replica's), as our SQL gateway and
 * transactions use it: a statement with values (prepared by name when named), or a
 * transaction-control statement whose command tag says how it ended. `uuid` marks the Sequelize
 * transaction holding one of Sequelize's.
 */
export interface PgConnection {
  query(statement: { name?: string; text: string; values: unknown[] }): Promise<{ rows: unknown[] }>;
  query(text: string): Promise<{ command?: string }>;
  uuid?: string;
}

/** Shows a statement of ours in the SQL log like Sequelize's own, when the instance logs (off by default). */
export function logStatement(sequelize: Sequelize, transactionId: string | undefined, text: string): void {
  const log = sequelize.options.logging;
  if (typeof log === 'function') log(`Executing (${transactionId ?? 'default'}): ${text}`);
}

/**
 * A pg error of one of our statements as Sequelize's DatabaseError (the original, with its
 * SQLSTATE, as `original`), so the error handler and the transaction retry read it as they read
 * Sequelize's own.
 */
export function asDatabaseError(error: unknown, sql: string, parameters: unknown[]): DatabaseError {
  return new DatabaseError(Object.assign(error as Error, { sql, parameters }) as never);
}

const beforeClose = new Set<() => Promise<void>>();

/** Runs `close` when the database closes (connections of this process's own beside the pool). */
export function onDatabaseClose(close: () => Promise<void>): void {
  beforeClose.add(close);
}

export async function closeDatabase(): Promise<void> {
  const current = instance;
  instance = undefined;
  for (const close of beforeClose) await close().catch(() => undefined);
  await current?.close();
}
