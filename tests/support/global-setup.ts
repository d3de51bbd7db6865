import fs from 'node:fs';
import { Client } from 'pg';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../src/platform/db/embedded-postgres';
import { TEST_ENV, testDataRoot } from './test-env';

/**
 * Starts one PostgreSQL for the whole run (embedded, unless DATABASE_URL names one), migrates a
 * template database with the production migrations, and tells the workers where it is. Each
 * test file then clones its own database from the template (tests/support/database.ts).
 */
export default async function globalSetup(): Promise<void> {
  process.env.TEST_RUN_ID ??= `${process.pid}`;
  for (const [key, value] of Object.entries(TEST_ENV)) process.env[key] ??= value;

  const dataRoot = testDataRoot();
  fs.rmSync(dataRoot, { recursive: true, force: true });
  fs.mkdirSync(dataRoot, { recursive: true });

  let adminUrl = process.env.DATABASE_URL;
  let embedded: EmbeddedPostgres | undefined;
  if (!adminUrl) {
    embedded = await startEmbeddedPostgres({ dataDir: `${dataRoot}/db`, database: 'postgres' });
    adminUrl = embedded.url;
  }
  (globalThis as { __embeddedPostgres?: EmbeddedPostgres }).__embeddedPostgres = embedded;

  const template = `marketplace_template_${process.env.TEST_RUN_ID}`;
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${template}`);
  await admin.query(`CREATE DATABASE ${template}`);
  await admin.end();

  const templateUrl = withDatabase(adminUrl, template);
  // Migrate through the same code path as `npm run migrate`.
  const { initDatabase, closeDatabase } = await import('../../src/platform/db');
  const { runPending } = await import('../../src/platform/db/bootstrap');
  const sequelize = initDatabase(templateUrl);
  await runPending(sequelize);
  await closeDatabase();

  process.env.TEST_PG_ADMIN_URL = adminUrl;
  process.env.TEST_PG_TEMPLATE = template;
  delete process.env.DATABASE_URL;
}

export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}
