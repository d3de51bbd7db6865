import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import type { Sequelize } from 'sequelize-typescript';
import { closeDatabase, initDatabase } from '../../src/platform/db';

export interface TestDatabase {
  name: string;
  url: string;
  sequelize: Sequelize;
}

function adminUrl(): string {
  const url = process.env.TEST_PG_ADMIN_URL;
  if (!url) throw new Error('TEST_PG_ADMIN_URL is not set: run the tests through jest (global setup starts PostgreSQL)');
  return url;
}

export function databaseUrl(name: string): string {
  const parsed = new URL(adminUrl());
  parsed.pathname = `/${name}`;
  return parsed.toString();
}

async function withAdmin<T>(run: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: adminUrl() });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

/** A fresh database cloned from the migrated template: the schema of production, no rows. */
export async function createDatabaseFromTemplate(): Promise<string> {
  const name = `test_${process.env.TEST_RUN_ID ?? 'x'}_${process.env.JEST_WORKER_ID ?? '0'}_${randomBytes(4).toString('hex')}`;
  const template = process.env.TEST_PG_TEMPLATE ?? 'marketplace_template';
  await withAdmin(async (client) => {
    for (let attempt = 0; ; attempt += 1) {
      try {
        await client.query(`CREATE DATABASE ${name} TEMPLATE ${template}`);
        return;
      } catch (error) {
        // 55006: the template is briefly in use by a concurrent clone.
        if ((error as { code?: string }).code !== '55006' || attempt > 50) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  });
  return name;
}

export async function dropDatabase(name: string): Promise<void> {
  await withAdmin((client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
}

/**
 * Gives the calling test file its own database for all its tests, bound to the models,
 * and drops it afterwards. Call at the top level of a test file.
 */
export function useTestDatabase(): { current: TestDatabase } {
  const holder = {} as { current: TestDatabase };
  beforeAll(async () => {
    const name = await createDatabaseFromTemplate();
    const url = databaseUrl(name);
    holder.current = { name, url, sequelize: initDatabase(url, { poolMax: 5 }) };
  });
  afterAll(async () => {
    await closeDatabase();
    if (holder.current) await dropDatabase(holder.current.name);
  });
  return holder;
}
