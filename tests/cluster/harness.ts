import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../src/platform/db/embedded-postgres';
import { freePort } from '../../src/platform/utils/net';

/**
 * Real processes for the cluster tests: API processes and workers started from the sources
 * (tsx) on one PostgreSQL and one Redis, and a round-robin HTTP proxy in front of the APIs that,
 * like a load balancer, tries the next process when one refuses or drops the connection before
 * answering.
 */

const ROOT = path.resolve(__dirname, '../..');

export interface Member {
  name: string;
  kind: 'api' | 'worker';
  port?: number;
  process: ChildProcess;
  exited: Promise<number | null>;
  log: string;
}

export interface MemberEnvOptions {
  databaseUrl: string;
  redisUrl: string;
  redisPrefix: string;
  /** Each member's DATA_DIR; mails are written to DATA_DIR/outbox. */
  dataDir: string;
}

/** The environment every member of one cluster shares: jobs only in the workers, limits out of the way. */
export function memberEnv(options: MemberEnvOptions): Record<string, string> {
  return {
    NODE_ENV: 'development',
    LOG_LEVEL: 'info',
    DATABASE_URL: options.databaseUrl,
    REDIS_URL: options.redisUrl,
    REDIS_PREFIX: options.redisPrefix,
    DATA_DIR: options.dataDir,
    JWT_SECRET: randomBytes(32).toString('base64url'),
    JWT_REFRESH_SECRET: randomBytes(32).toString('base64url'),
    BCRYPT_ROUNDS: '4',
    SEED_DEMO_DATA: 'false',
    JOBS_IN_API: 'false',
    RATE_LIMIT_MAX: '100000',
    AUTH_RATE_LIMIT_MAX: '100000',
    PUBLIC_CACHE_TTL_MS: '60000',
    LISTING_TOTALS_TTL_MS: '60000',
    SHUTDOWN_TIMEOUT_MS: '10000',
  };
}

/** The mail files of DATA_DIR/outbox addressed to `address`. */
export function mailsTo(dataDir: string, address: string): string[] {
  const dir = path.join(dataDir, 'outbox');
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).filter((file) => fs.readFileSync(path.join(dir, file), 'utf8').includes(address));
}

/**
 * A PostgreSQL server of the test's own (the embedded binaries, as the postgres user when run as
 * root), which the test may stop and start again on the same data directory and port: a shared
 * server stopped would take down whatever else runs on it.
 */
export class OwnPostgres {
  private server?: EmbeddedPostgres;
  private port?: number;
  private readonly dataDir: string;

  constructor(private readonly database: string) {
    // Not the 0700 of mkdtemp: the postgres user must reach the cluster inside.
    this.dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'marketplace-cluster-pg-'));
    fs.chmodSync(this.dataDir, 0o755);
  }

  /** Starts the server (on the port of its first start) and returns the URL of the database. */
  async start(): Promise<string> {
    this.server = await startEmbeddedPostgres({ dataDir: this.dataDir, database: this.database, port: this.port });
    this.port = this.server.port;
    return this.server.url;
  }

  /** A fast shutdown, as `pg_ctl stop -m fast`: open transactions roll back, every connection is closed. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    await server?.stop();
  }

  /** Stops the server and deletes its cluster. */
  async remove(): Promise<void> {
    await this.stop();
    fs.rmSync(this.dataDir, { recursive: true, force: true });
  }
}

export async function startMember(name: string, kind: 'api' | 'worker', env: Record<string, string>, logDir: string): Promise<Member> {
  const port = kind === 'api' ? await freePort() : undefined;
  const log = path.join(logDir, `${name}.log`);
  const out = fs.openSync(log, 'a');
  const script = kind === 'api' ? 'src/server.ts' : 'src/cli/worker.ts';
  // node itself, with tsx's loader: signals reach the app, not a wrapper process.
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: ROOT,
    env: { ...process.env, ...env, ...(port ? { PORT: String(port), HOST: '127.0.0.1' } : {}) },
    stdio: ['ignore', out, out],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const member: Member = { name, kind, port, process: child, exited, log };
  await waitUntil(
    async () => {
      if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}; see ${log}`);
      if (kind === 'api') return (await get(`http://127.0.0.1:${port}/ready`)).status === 200;
      return /worker ready/.test(fs.readFileSync(log, 'utf8'));
    },
    60_000,
    `${name} to be ready (log: ${log})`,
  );
  return member;
}

/** SIGTERM, and SIGKILL if it has not exited after `graceMs`. */
export async function stopMember(member: Member, graceMs = 15_000): Promise<number | null> {
  if (member.process.exitCode !== null) return member.process.exitCode;
  member.process.kill('SIGTERM');
  const timer = setTimeout(() => member.process.kill('SIGKILL'), graceMs);
  const code = await member.exited;
  clearTimeout(timer);
  return code;
}

export async function waitUntil(check: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch (error) {
      if (/exited with/.test((error as Error).message)) throw error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: any;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

/** One HTTP request with a JSON body; the answer parsed when it is JSON. */
export function call(base: string, method: string, url: string, options: { body?: unknown; headers?: Record<string, string>; raw?: string } = {}): Promise<Answer> {
  const payload = options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${base}${url}`,
      {
        method,
        agent,
        headers: { ...(payload !== undefined ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}), ...options.headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown = text;
          try {
            body = JSON.parse(text);
          } catch {
            // not JSON
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
        });
      },
    );
    req.on('error', reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

export function get(url: string): Promise<Answer> {
  const parsed = new URL(url);
  return call(parsed.origin, 'GET', `${parsed.pathname}${parsed.search}`);
}

/** A round-robin reverse proxy that retries a request on the next backend when the connection fails before an answer. */
export class RoundRobinProxy {
  private server?: http.Server;
  private next = 0;
  port = 0;
  /** Requests that failed on every backend. */
  lost = 0;
  retried = 0;

  constructor(private readonly backends: () => number[]) {}

  async start(): Promise<string> {
    this.server = http.createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
    return `http://127.0.0.1:${this.port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const ports = this.backends();
    const start = this.next++;
    for (let attempt = 0; attempt < ports.length; attempt += 1) {
      const port = ports[(start + attempt) % ports.length];
      try {
        const answer = await forward(port, req, body);
        res.writeHead(answer.status, answer.headers);
        res.end(answer.body);
        return;
      } catch {
        this.retried += 1;
      }
    }
    this.lost += 1;
    res.writeHead(502, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ success: false, error: { code: 'BAD_GATEWAY', message: 'no backend answered' } }));
  }
}

function forward(port: number, req: http.IncomingMessage, body: Buffer): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const headers = { ...req.headers, host: `127.0.0.1:${port}`, connection: 'keep-alive' };
    const upstream = http.request({ host: '127.0.0.1', port, method: req.method, path: req.url, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    upstream.on('error', reject);
    upstream.end(body);
  });
}
