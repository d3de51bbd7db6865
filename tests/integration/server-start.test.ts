import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { freePort } from '../../src/platform/utils/net';
import { createDatabaseFromTemplate, databaseUrl, dropDatabase } from '../support/database';
import { spawnServer, type ServerProcess } from '../support/server-process';

const secret = () => randomBytes(48).toString('base64');

type Started = ServerProcess;

/** `npm start` as an operator runs it: its own environment, nothing of the test process's config. */
function startServer(env: Record<string, string>): Started {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^(NODE_ENV|JWT_|BCRYPT_|DATABASE_URL|DB_|REDIS_|SEED_|METRICS_|LOG_|FRONTEND_URL|APP_URL)/.test(key)));
  return spawnServer({ ...inherited, LOG_LEVEL: 'info', ...env });
}

async function waitForOutput(server: Started, pattern: RegExp, timeoutMs = 45_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pattern.test(server.output())) {
    if (Date.now() > deadline || server.child.exitCode !== null) throw new Error(`no ${pattern} in:\n${server.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function tempDataDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'start-'));
}

describe('starting the server', () => {
  let name: string;

  beforeAll(async () => {
    name = await createDatabaseFromTemplate();
  });

  afterAll(async () => {
    await dropDatabase(name);
  });

  it('in production without a database, refuses to start naming DATABASE_URL, and starts no embedded PostgreSQL', async () => {
    const dataDir = tempDataDir();
    const server = startServer({ NODE_ENV: 'production', DATA_DIR: dataDir, JWT_SECRET: secret(), JWT_REFRESH_SECRET: secret(), PORT: String(await freePort()) });
    expect(await server.exited).toBe(1);
    expect(server.output()).toContain('Configuration error: DATABASE_URL (or DB_HOST, DB_NAME, DB_USER) is required in production');
    expect(server.output()).not.toMatch(/demo|password|PostgreSQL (started|is running)/i);
    expect(fs.readdirSync(dataDir)).toEqual([]);
  }, 30_000);

  it.each([
    ['JWT_SECRET', { JWT_SECRET: 'a'.repeat(32) }],
    ['JWT_REFRESH_SECRET', { JWT_REFRESH_SECRET: 'changeme'.repeat(4) }],
    ['BCRYPT_ROUNDS', { BCRYPT_ROUNDS: '8' }],
  ])('in production, refuses a weak %s before listening', async (variable, weak) => {
    const server = startServer({
      NODE_ENV: 'production',
      DATA_DIR: tempDataDir(),
      DATABASE_URL: databaseUrl(name),
      JWT_SECRET: secret(),
      JWT_REFRESH_SECRET: secret(),
      PORT: String(await freePort()),
      ...weak,
    });
    expect(await server.exited).toBe(1);
    expect(server.output()).toMatch(new RegExp(`^Configuration error: .*${variable}`, 'm'));
  }, 30_000);

  it('in production, starts on the configured database with JSON logs, warns about localhost links, seeds nothing', async () => {
    const port = await freePort();
    const server = startServer({
      NODE_ENV: 'production',
      DATA_DIR: tempDataDir(),
      DATABASE_URL: databaseUrl(name),
      JWT_SECRET: secret(),
      JWT_REFRESH_SECRET: secret(),
      PORT: String(port),
      APP_URL: 'https://api.example.com',
      FRONTEND_URL: 'http://localhost:3000',
    });
    try {
      await waitForOutput(server, /API ready at/);
      const lines = server.output().trim().split('\n');
      // One JSON object per line, as log collectors expect.
      const entries = lines.map((line) => JSON.parse(line) as { level: string; message: string });
      expect(entries).toContainEqual(expect.objectContaining({ level: 'warn', message: expect.stringMatching(/^FRONTEND_URL is http:\/\/localhost:3000/) }));
      expect(entries.at(-1)).toMatchObject({ level: 'info', message: 'API ready at https://api.example.com/api, docs at https://api.example.com/api/docs' });

      const client = new Client({ connectionString: databaseUrl(name) });
      await client.connect();
      try {
        const { rows } = await client.query<{ users: number; products: number }>('SELECT (SELECT count(*)::int FROM users) AS users, (SELECT count(*)::int FROM products) AS products');
        expect(rows[0]).toEqual({ users: 0, products: 0 });
      } finally {
        await client.end();
      }
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  }, 60_000);

  it('in development, prints the ready line of the README as plain text', async () => {
    const port = await freePort();
    const server = startServer({
      NODE_ENV: 'development',
      DATA_DIR: tempDataDir(),
      DATABASE_URL: databaseUrl(name),
      PORT: String(port),
      APP_URL: `http://localhost:${port}`,
    });
    try {
      await waitForOutput(server, /API ready at/);
      const lines = server.output().trim().split('\n');
      expect(lines.at(-1)).toBe(`API ready at http://localhost:${port}/api, docs at http://localhost:${port}/api/docs`);
      expect(lines.filter((line) => line.startsWith('{'))).toEqual([]);
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  }, 60_000);
});
