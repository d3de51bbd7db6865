import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { Client } from 'pg';
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { SMTPServer } from 'smtp-server';
import { Webhook } from 'standardwebhooks';
import { hashPassword } from '../../src/platform/utils/password';
import { freePort } from '../../src/platform/utils/net';
import { createDatabaseFromTemplate, databaseUrl, dropDatabase } from '../support/database';
import { spawnServer, type ServerProcess } from '../support/server-process';

// Without Redis the server runs its jobs in its own memory. A server killed with SIGKILL loses
// none of the mails of the changes it committed: the next start sends each of them, once.

const DELIVERY_BOUND_MS = 60_000;

interface Delivered {
  to: string;
  subject: string;
  messageId: string;
}

function header(raw: string, name: string): string {
  return new RegExp(`^${name}:\\s*(.*(?:\\r?\\n[ \\t].*)*)`, 'im').exec(raw)?.[1].replace(/\r?\n[ \t]+/g, ' ').trim() ?? '';
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function waitFor(what: string, done: () => boolean | Promise<boolean>, timeoutMs: number, server?: ServerProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms${server ? `\n${server.output().slice(-4000)}` : ''}`);
    await sleep(100);
  }
}

/** An SMTP server that can refuse every mail (451, "try again later"), as one that is overloaded does. */
class TestSmtp {
  readonly delivered: Delivered[] = [];
  refused = 0;
  refusing = false;
  port = 0;
  private readonly server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onMailFrom: (_address, _session, callback) => {
      if (!this.refusing) return callback();
      this.refused += 1;
      callback(Object.assign(new Error('Try again later'), { responseCode: 451 }));
    },
    onData: (stream, session, callback) => {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        for (const rcpt of session.envelope.rcptTo) {
          this.delivered.push({ to: rcpt.address, subject: header(raw, 'Subject'), messageId: header(raw, 'Message-ID') });
        }
        callback();
      });
    },
  });

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.server.address() as AddressInfo).port;
  }

  to(address: string): Delivered[] {
    return this.delivered.filter((mail) => mail.to === address);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** The .eml files written to DATA_DIR/outbox (no SMTP configured), by recipient. */
function emlTo(dataDir: string, address: string): string[] {
  const dir = path.join(dataDir, 'outbox');
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((file) => file.endsWith('.eml'))
    .filter((file) => header(fs.readFileSync(path.join(dir, file), 'utf8'), 'To').includes(address));
}

async function waitForHealth(port: number, server: ServerProcess): Promise<void> {
  await waitFor(
    'the server answers /health',
    async () => {
      if (server.child.exitCode !== null) throw new Error(`the server exited:\n${server.output()}`);
      return fetch(`http://127.0.0.1:${port}/health`).then(
        (res) => res.ok,
        () => false,
      );
    },
    45_000,
  );
}

async function register(port: number, email: string): Promise<void> {
  const res = await fetch(`http://127.0.0.1:${port}/api/auth/register`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email, password: 'Sturdy-pass-42', name: 'Crash Test' }),
  });
  if (res.status !== 201) throw new Error(`register ${email}: ${res.status} ${await res.text()}`);
}

describe('in-process jobs when the server is killed (no Redis)', () => {
  let name: string;
  let dataDir: string;
  const servers: ServerProcess[] = [];
  let smtp: TestSmtp | undefined;

  beforeAll(async () => {
    name = await createDatabaseFromTemplate();
  });

  beforeEach(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'outbox-crash-'));
  });

  afterEach(async () => {
    for (const server of servers.splice(0)) {
      server.child.kill('SIGKILL');
      await server.exited;
    }
    // After the servers: it waits for its clients to leave.
    await smtp?.close();
    smtp = undefined;
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  afterAll(async () => {
    await dropDatabase(name);
  });

  async function startServer(port: number, env: Record<string, string> = {}): Promise<ServerProcess> {
    const server = spawnServer({
      ...process.env,
      NODE_ENV: 'development',
      LOG_LEVEL: 'warn',
      REDIS_URL: '',
      DATABASE_URL: databaseUrl(name),
      DATA_DIR: dataDir,
      PORT: String(port),
      APP_URL: `http://localhost:${port}`,
      ...env,
    });
    servers.push(server);
    await waitForHealth(port, server);
    return server;
  }

  async function kill(server: ServerProcess): Promise<void> {
    server.child.kill('SIGKILL');
    await server.exited;
  }

  async function sql<T extends object>(text: string, values: unknown[] = []): Promise<T[]> {
    const client = new Client({ connectionString: databaseUrl(name) });
    await client.connect();
    try {
      return (await client.query<T>(text, values)).rows;
    } finally {
      await client.end();
    }
  }

  async function unsentRows(): Promise<number> {
    const client = new Client({ connectionString: databaseUrl(name) });
    await client.connect();
    try {
      const { rows } = await client.query<{ count: number }>('SELECT count(*)::int AS count FROM outbox WHERE sent_at IS NULL');
      return rows[0].count;
    } finally {
      await client.end();
    }
  }

  it('sends every registration mail exactly once after a kill -9, also those whose first tries had failed', async () => {
    const mails = new TestSmtp();
    smtp = mails;
    await mails.start();
    const port = await freePort();
    const env = { SMTP_HOST: '127.0.0.1', SMTP_PORT: String(mails.port), SMTP_SECURE: '0' };
    // The SMTP server refuses for now: no mail can be sent before the kill.
    mails.refusing = true;
    const first = await startServer(port, env);
    const users = Array.from({ length: 25 }, (_, i) => `crash-${i}-${Date.now().toString(36)}@outbox-crash.test`);
    await Promise.all(users.map((email) => register(port, email)));
    // Some tries have failed (and wait for their retry) when the process dies.
    await waitFor('the first tries of the mails were refused', () => mails.refused >= 5, 30_000, first);
    await kill(first);
    expect(mails.delivered).toEqual([]);

    mails.refusing = false;
    const second = await startServer(port, env);
    const everyMail = () => users.every((email) => mails.to(email).length >= 2);
    await waitFor('every registration mail arrives after the restart', everyMail, DELIVERY_BOUND_MS, second);
    // A row is marked sent a moment after its mail arrives; once none is left, nothing is due to be sent.
    await waitFor('every outbox row is marked sent', async () => (await unsentRows()) === 0, DELIVERY_BOUND_MS, second);
    // Nothing comes twice, however long one waits.
    await sleep(2000);
    for (const email of users) {
      expect(mails.to(email).map((mail) => mail.subject).sort()).toEqual([expect.stringMatching(/confirm your email/i), expect.stringMatching(/welcome/i)]);
    }
    expect(new Set(mails.delivered.map((mail) => mail.messageId)).size).toBe(users.length * 2);

    // The normal path of the restarted process: each mail once.
    const later = Array.from({ length: 10 }, (_, i) => `after-${i}-${Date.now().toString(36)}@outbox-crash.test`);
    await Promise.all(later.map((email) => register(port, email)));
    await waitFor('the mails of the later registrations arrive', () => later.every((email) => mails.to(email).length >= 2), DELIVERY_BOUND_MS, second);
    await sleep(1000);
    for (const email of later) expect(mails.to(email)).toHaveLength(2);
  }, 150_000);

  it('writes every registration mail exactly once to the outbox folder after a kill -9 right after the registrations answer', async () => {
    const port = await freePort();
    const first = await startServer(port);
    const users = Array.from({ length: 60 }, (_, i) => `burst-${i}-${Date.now().toString(36)}@outbox-crash.test`);
    await Promise.all(users.map((email) => register(port, email)));
    await kill(first);

    const second = await startServer(port);
    await waitFor('every registration mail is written after the restart', () => users.every((email) => emlTo(dataDir, email).length >= 2), DELIVERY_BOUND_MS, second);
    await waitFor('every outbox row is marked sent', async () => (await unsentRows()) === 0, DELIVERY_BOUND_MS, second);
    // Nothing is written twice, however long one waits.
    await sleep(2000);
    for (const email of users) expect(emlTo(dataDir, email)).toHaveLength(2);
  }, 150_000);

  it('delivers the webhook of a checkout committed just before a kill -9, once, after the restart', async () => {
    // A receiver that is down at first: the first try fails and waits for its retry when the process dies.
    const received: Array<{ headers: http.IncomingHttpHeaders; body: string }> = [];
    const receiver = http.createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      req.on('end', () => {
        received.push({ headers: req.headers, body });
        res.end('ok');
      });
    });
    const receiverPort = await freePort();
    const secret = `whsec_${randomBytes(32).toString('base64')}`;
    const suffix = Date.now().toString(36);
    const password = 'Sturdy-pass-42';
    const hash = await hashPassword(password, 4);
    const [seller] = await sql<{ id: string }>(
      `INSERT INTO users (email, password, name, role, status, email_verified) VALUES ($1, $2, 'Crash Seller', 'seller', 'approved', true) RETURNING id`,
      [`seller-${suffix}@outbox-crash.test`, hash],
    );
    await sql(`INSERT INTO seller_profiles (user_id, store_name, store_slug, approved_at) VALUES ($1, 'Crash Store', $2, now())`, [seller.id, `crash-${suffix}`]);
    const [product] = await sql<{ id: string }>(
      `INSERT INTO products (seller_id, name, slug, price, price_max, sku, stock_quantity, status, short_description)
       VALUES ($1, 'Crash Lamp', $2, 9.99, 9.99, $3, 5, 'active', 'A lamp') RETURNING id`,
      [seller.id, `crash-lamp-${suffix}`, `CRASH-${suffix}`],
    );
    const [variant] = await sql<{ id: string }>(
      `INSERT INTO product_variants (product_id, seller_id, sku, title, price, stock_quantity) VALUES ($1, $2, $3, 'Default', 9.99, 5) RETURNING id`,
      [product.id, seller.id, `CRASH-${suffix}`],
    );
    const customerEmail = `buyer-${suffix}@outbox-crash.test`;
    await sql(`INSERT INTO users (email, password, name, role, status, email_verified) VALUES ($1, $2, 'Crash Buyer', 'customer', 'approved', true)`, [customerEmail, hash]);
    await sql(`INSERT INTO webhook_endpoints (owner_id, url, events, secret) VALUES ($1, $2, ARRAY['order.created']::varchar(50)[], $3)`, [
      seller.id,
      `http://127.0.0.1:${receiverPort}/hook`,
      secret,
    ]);

    const port = await freePort();
    const env = { WEBHOOK_ALLOW_PRIVATE_URLS: 'true' };
    const first = await startServer(port, env);
    const call = async (path: string, body: object, bearer?: string) => {
      const res = await fetch(`http://127.0.0.1:${port}${path}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...(bearer ? { Authorization: `Bearer ${bearer}` } : {}) },
        body: JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as { data: Record<string, unknown> } };
    };
    const token = (await call('/api/auth/login', { email: customerEmail, password })).body.data.accessToken as string;
    expect((await call('/api/cart/items', { variantId: variant.id, quantity: 1 }, token)).status).toBe(201);
    const placed = await call('/api/orders', { shippingAddress: { firstName: 'A', lastName: 'B', address1: '1 Road', city: 'Town', postalCode: '12345', country: 'US' } }, token);
    expect(placed.status).toBe(201);
    await kill(first);
    expect(received).toEqual([]);

    await new Promise<void>((resolve) => receiver.listen(receiverPort, '127.0.0.1', resolve));
    try {
      const second = await startServer(port, env);
      await waitFor('the order.created webhook arrives after the restart', () => received.length >= 1, DELIVERY_BOUND_MS, second);
      await sleep(2000);
      expect(received).toHaveLength(1);
      const [delivery] = received;
      const event = new Webhook(secret).verify(delivery.body, {
        'webhook-id': String(delivery.headers['webhook-id']),
        'webhook-timestamp': String(delivery.headers['webhook-timestamp']),
        'webhook-signature': String(delivery.headers['webhook-signature']),
      }) as { type: string; data: { id: string } };
      expect(event).toMatchObject({ type: 'order.created', data: { id: placed.body.data.id } });
    } finally {
      await new Promise((resolve) => receiver.close(resolve));
    }
  }, 150_000);
});
