import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { call, mailsTo, memberEnv, OwnPostgres, RoundRobinProxy, startMember, stopMember, waitUntil, type Answer, type Member } from './harness';

/**
 * Two API processes and two workers on a PostgreSQL server that is stopped and started again
 * under load: every process keeps running and recovers by itself, /ready follows the server, and
 * no side effect committed before the stop is lost. The server is the test's own (a shared one
 * cannot be stopped without disturbing whatever else uses it); Redis is REDIS_URL.
 */

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const PASSWORD = 'Cluster-Passw0rd!';
const MAILS_PER_REGISTRATION = 2;

const run = randomBytes(4).toString('hex');
const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'marketplace-cluster-'));
const dataDir = path.join(workDir, 'data');
const postgres = new OwnPostgres('marketplace');
const members: Member[] = [];
let apis: Member[] = [];
let proxy: RoundRobinProxy;
let base = '';
let databaseUrl = '';

/** One statement on a connection of its own: the server this test talks to goes away and comes back. */
async function sql<T extends Record<string, unknown>>(text: string, values: unknown[] = []): Promise<T[]> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return (await client.query(text, values)).rows as T[];
  } finally {
    await client.end();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** What each API process answers on /ready: 'ready', 'database down', or its status otherwise. */
async function readiness(): Promise<string[]> {
  return Promise.all(
    apis.map(async (api) => {
      const answer = await call(`http://127.0.0.1:${api.port}`, 'GET', '/ready');
      if (answer.status === 200) return 'ready';
      if (answer.status === 503 && answer.body.error.details[0].database === 'down') return 'database down';
      return String(answer.status);
    }),
  );
}

beforeAll(async () => {
  databaseUrl = await postgres.start();
  const env = memberEnv({ databaseUrl, redisUrl: REDIS_URL, redisPrefix: `pr${run}`, dataDir });
  // Both APIs start at once: migrations run under an advisory lock, one after the other.
  apis = await Promise.all([startMember('api1', 'api', env, workDir), startMember('api2', 'api', env, workDir)]);
  members.push(...apis);
  members.push(...(await Promise.all([startMember('worker1', 'worker', env, workDir), startMember('worker2', 'worker', env, workDir)])));
  proxy = new RoundRobinProxy(() => apis.filter((member) => member.process.exitCode === null).map((member) => member.port!));
  base = await proxy.start();
}, 180_000);

afterAll(async () => {
  await Promise.all(members.map((member) => stopMember(member)));
  await proxy?.stop();
  await postgres.remove();
}, 60_000);

describe('a cluster whose PostgreSQL server is stopped and started again', () => {
  it('keeps every process running, answers /ready 503 while the server is down, and loses no outbox row', async () => {
    type Phase = 'up' | 'down' | 'back';
    let phase: Phase = 'up';
    let loading = true;
    const outcomes: { phase: Phase; kind: string; status: number }[] = [];
    const registered: string[] = [];
    let registrations = 0;

    // Catalog reads and registrations (each commits a user and its mails' outbox rows) until told to stop.
    const loop = async (kind: string, request: () => Promise<Answer>): Promise<void> => {
      while (loading) {
        const startedIn = phase;
        const answer = await request().catch(() => ({ status: 0 }) as Answer);
        outcomes.push({ phase: startedIn, kind, status: answer.status });
        await sleep(10);
      }
    };
    const register = async (): Promise<Answer> => {
      const email = `restart-${(registrations += 1)}-${run}@cluster.test`;
      const answer = await call(base, 'POST', '/api/auth/register', { body: { email, password: PASSWORD, name: 'Restart Shopper' } });
      if (answer.status === 201) registered.push(email);
      return answer;
    };
    const shopper = await call(base, 'POST', '/api/auth/register', { body: { email: `restart-0-${run}@cluster.test`, password: PASSWORD, name: 'Restart Shopper' } });
    expect(shopper.status).toBe(201);
    registered.push(`restart-0-${run}@cluster.test`);
    const authorization = `Bearer ${shopper.body.data.accessToken}`;
    let searches = 0;
    let before: { id: string; sent: boolean }[] = [];
    const load = [
      // Cached listings, uncached searches, the session check of a signed-in request, and registrations.
      ...Array.from({ length: 2 }, (_, i) => loop('catalog', () => call(base, 'GET', `/api/products?page=${i + 1}&limit=${i + 5}`))),
      loop('search', () => call(base, 'GET', `/api/products?search=lamp${(searches += 1)}`)),
      loop('me', () => call(base, 'GET', '/api/auth/me', { headers: { authorization } })),
      ...Array.from({ length: 2 }, () => loop('register', register)),
    ];

    try {
      await waitUntil(() => registered.length >= 10, 30_000, 'registrations before the stop');
      // Rows recorded in the last moments are still waiting for a relay when the server stops.
      before = await sql<{ id: string; sent: boolean }>('SELECT id, sent_at IS NOT NULL AS sent FROM outbox');
      phase = 'down';
      await postgres.stop();
      const stoppedAt = Date.now();

      await waitUntil(async () => (await readiness()).every((state) => state === 'database down'), 10_000, 'both APIs to answer /ready with 503, the database down');
      // Down long enough for every pool, relay and queue worker to have failed on it, not just once.
      await sleep(Math.max(0, stoppedAt + 5000 - Date.now()));
      expect(members.filter((member) => member.process.exitCode !== null).map((member) => member.name)).toEqual([]);

      await postgres.start();
      await waitUntil(async () => (await readiness()).every((state) => state === 'ready'), 30_000, 'both APIs to answer /ready with 200 again');
      phase = 'back';
      const registeredAfterRestart = registered.length;
      await waitUntil(() => registered.length >= registeredAfterRestart + 10, 30_000, 'registrations after the restart');
    } finally {
      loading = false;
      await Promise.all(load);
    }

    // Answers from requests started once both APIs were ready again: none failed.
    expect(outcomes.filter((outcome) => outcome.phase === 'back' && outcome.status !== 200 && outcome.status !== 201)).toEqual([]);
    expect(outcomes.filter((outcome) => outcome.phase === 'down' && outcome.status >= 500).length).toBeGreaterThan(0);
    const after = await Promise.all(Array.from({ length: 40 }, (_, i) => call(base, 'GET', `/api/products?limit=${(i % 5) + 1}`)));
    expect(after.filter((answer) => answer.status !== 200).map((answer) => answer.status)).toEqual([]);

    // Every outbox row, those waiting when the server stopped included, is relayed; the workers send every mail.
    await waitUntil(async () => (await sql('SELECT id FROM outbox WHERE sent_at IS NULL')).length === 0, 60_000, 'every outbox row to be relayed');
    const sent = new Set((await sql<{ id: string }>('SELECT id FROM outbox WHERE sent_at IS NOT NULL')).map((row) => row.id));
    expect(before.filter((row) => !sent.has(row.id))).toEqual([]);
    // Whatever committed, whether or not its answer arrived: the users the database holds.
    const users = (await sql<{ email: string }>(`SELECT email FROM users WHERE email LIKE $1`, [`restart-%-${run}@cluster.test`])).map((row) => row.email);
    expect(users).toEqual(expect.arrayContaining(registered));
    await waitUntil(() => users.every((email) => mailsTo(dataDir, email).length >= MAILS_PER_REGISTRATION), 60_000, 'the mails of every registration');
    await sleep(1000);
    expect(users.filter((email) => mailsTo(dataDir, email).length !== MAILS_PER_REGISTRATION)).toEqual([]);
    expect(before.filter((row) => !row.sent).length).toBeGreaterThan(0);
    expect(members.filter((member) => member.process.exitCode !== null).map((member) => member.name)).toEqual([]);
  }, 180_000);
});
