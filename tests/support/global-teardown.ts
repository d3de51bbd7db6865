import fs from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import type { EmbeddedPostgres } from '../../src/platform/db/embedded-postgres';
import { typeCheckGeneratedClient } from './openapi-conformance';
import { testDataRoot } from './test-env';

export default async function globalTeardown(): Promise<void> {
  let clientCheck: Error | undefined;
  try {
    typeCheckGeneratedClient(testDataRoot(), path.resolve(__dirname, '..', '..'));
  } catch (error) {
    clientCheck = error as Error;
  }
  const embedded = (globalThis as { __embeddedPostgres?: EmbeddedPostgres }).__embeddedPostgres;
  if (embedded) {
    await embedded.stop();
  } else if (process.env.TEST_PG_ADMIN_URL) {
    // On a shared server, leave nothing behind: the template and every per-file database of this run.
    const admin = new Client({ connectionString: process.env.TEST_PG_ADMIN_URL });
    await admin.connect();
    const { rows } = await admin.query<{ datname: string }>('SELECT datname FROM pg_database WHERE datname LIKE $1', [
      `%_${process.env.TEST_RUN_ID}%`,
    ]);
    for (const { datname } of rows) await admin.query(`DROP DATABASE IF EXISTS ${admin.escapeIdentifier(datname)} WITH (FORCE)`);
    await admin.end();
  }
  fs.rmSync(testDataRoot(), { recursive: true, force: true });
  if (clientCheck) throw clientCheck;
}
