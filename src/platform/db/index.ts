import { Sequelize } from 'sequelize-typescript';
import type { Options } from 'sequelize';
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
