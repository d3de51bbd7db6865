import { Sequelize } from 'sequelize-typescript';
import type { Options } from 'sequelize';
import { models } from '../../models';

let instance: Sequelize | undefined;

export interface DatabaseOptions {
  logging?: Options['logging'];
  poolMax?: number;
}

/** Binds every model to one Sequelize instance for this process. */
export function initDatabase(url: string, options: DatabaseOptions = {}): Sequelize {
  instance = new Sequelize(url, {
    dialect: 'postgres',
    models,
    logging: options.logging ?? false,
    benchmark: false,
    pool: { max: options.poolMax ?? 10, min: 0, idle: 10_000, acquire: 20_000 },
    define: { underscored: true },
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
