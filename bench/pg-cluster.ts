import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { freePort } from '../src/platform/utils/net';

/**
 * A PostgreSQL primary and a streaming standby made from it by `pg_basebackup -R`, with the
 * machine's server binaries (/usr/lib/postgresql/<version>/bin): the bench's read-replica rows
 * (bench/replicas.ts) and the cluster test of a replica (tests/cluster/replica.test.ts) run on one.
 * The embedded PostgreSQL of the rest ships no pg_basebackup, and a standby must run its primary's
 * major version. PostgreSQL refuses to run as root: as root, its programs run as the postgres user.
 */

const ROOT = '/usr/lib/postgresql';

/** The newest server binaries that include pg_basebackup, or undefined. */
export function serverBinDir(): string | undefined {
  const versions = fs.existsSync(ROOT) ? fs.readdirSync(ROOT).filter((version) => fs.existsSync(path.join(ROOT, version, 'bin', 'pg_basebackup'))) : [];
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0];
  return newest ? path.join(ROOT, newest, 'bin') : undefined;
}

/** Undefined when there are server binaries to make a pair with, else why not. */
export function serverBinariesMissing(): string | undefined {
  return serverBinDir() ? undefined : `no ${ROOT}/<version>/bin/pg_basebackup (the PostgreSQL server binaries: apt-get install postgresql)`;
}

function owner(): { uid?: number; gid?: number } {
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot) return {};
  return { uid: Number(execFileSync('id', ['-u', 'postgres']).toString().trim()), gid: Number(execFileSync('id', ['-g', 'postgres']).toString().trim()) };
}

export interface StreamingPairOptions {
  /** mkdtemp's prefix for the directory that holds both clusters, their logs and sockets. */
  tmpPrefix: string;
  /** The database made on the primary, which the URLs name. */
  database: string;
  maxConnections: number;
  /** More postgresql.conf lines for the primary (the standby copies them). */
  primarySettings?: string[];
  /** Statements run in the new database before the standby is copied from the primary. */
  databaseSetup?: string[];
  /** The standby's recovery_min_apply_delay ('200ms'), to keep it that far behind; none by default. */
  applyDelay?: string;
}

export interface StreamingPair {
  workDir: string;
  /** URLs of the database on each server. */
  primaryUrl: string;
  standbyUrl: string;
  /** Stops the standby at once (`pg_ctl stop -m immediate`), as a crash would; throws if pg_ctl fails. */
  stopStandby(): void;
  /** Stops both servers (the standby at once, the primary fast) and deletes their clusters; safe to call twice. */
  stop(): void;
}

/** Pairs started and not yet stopped, for a clean-up on an interrupt. */
const running = new Set<StreamingPair>();

/** Stops every pair still running (synchronously: usable from an exit path). */
export function stopStreamingPairs(): void {
  for (const pair of [...running]) pair.stop();
}

/**
 * initdb a primary (wal_level=replica, trust on 127.0.0.1 for connections and replication), start
 * it on a free port, make the database, then a standby with `pg_basebackup -R -X stream` started
 * on another free port. Everything lives in one temporary directory that stop() deletes.
 */
export async function startStreamingPair(options: StreamingPairOptions): Promise<StreamingPair> {
  const bin = serverBinDir();
  if (!bin) throw new Error(serverBinariesMissing());
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), options.tmpPrefix));
  const primaryDir = path.join(workDir, 'primary');
  const standbyDir = path.join(workDir, 'standby');
  const runAs = owner();
  // Not the 0700 of mkdtemp: the postgres user makes the clusters inside.
  fs.chmodSync(workDir, 0o755);
  if (runAs.uid !== undefined) fs.chownSync(workDir, runAs.uid, runAs.gid!);
  const pgRun = (program: string, args: string[]) =>
    execFileSync(path.join(bin, program), args, { ...runAs, cwd: workDir, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, LC_ALL: 'C' }, timeout: 300_000 });
  const url = (port: number, database: string) => `postgres://postgres@127.0.0.1:${port}/${database}`;
  let primaryUp = false;
  let standbyUp = false;
  const pair: StreamingPair = {
    workDir,
    primaryUrl: '',
    standbyUrl: '',
    stopStandby() {
      if (!standbyUp) return;
      pgRun('pg_ctl', ['-D', standbyDir, '-m', 'immediate', '-w', 'stop']);
      standbyUp = false;
    },
    stop() {
      running.delete(pair);
      const quietly = (args: string[]) => {
        try {
          pgRun('pg_ctl', args);
        } catch {
          // already stopped
        }
      };
      if (standbyUp) quietly(['-D', standbyDir, '-m', 'immediate', '-w', 'stop']);
      if (primaryUp) quietly(['-D', primaryDir, '-m', 'fast', '-w', 'stop']);
      standbyUp = false;
      primaryUp = false;
      fs.rmSync(workDir, { recursive: true, force: true });
    },
  };
  running.add(pair);
  try {
    const [primaryPort, standbyPort] = [await freePort(), await freePort()];
    const settings = [
      `port = ${primaryPort}`,
      `listen_addresses = '127.0.0.1'`,
      `unix_socket_directories = '${workDir}'`,
      'wal_level = replica',
      'max_wal_senders = 4',
      'hot_standby = on',
      // Nothing here needs to survive a crash.
      'fsync = off',
      `max_connections = ${options.maxConnections}`,
      ...(options.primarySettings ?? []),
    ];
    // trust for local TCP, replication included (initdb's pg_hba.conf has the replication lines).
    pgRun('initdb', ['-D', primaryDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C', '-N']);
    fs.appendFileSync(path.join(primaryDir, 'postgresql.conf'), `\n${settings.join('\n')}\n`);
    fs.appendFileSync(path.join(primaryDir, 'pg_hba.conf'), '\nhost replication all 127.0.0.1/32 trust\n');
    pgRun('pg_ctl', ['-D', primaryDir, '-l', path.join(workDir, 'primary.log'), '-w', 'start']);
    primaryUp = true;
    await run(url(primaryPort, 'postgres'), [`CREATE DATABASE ${options.database}`]);
    await run(url(primaryPort, options.database), options.databaseSetup ?? []);

    pgRun('pg_basebackup', ['-h', '127.0.0.1', '-p', String(primaryPort), '-U', 'postgres', '-D', standbyDir, '-R', '-X', 'stream', '-c', 'fast']);
    const standbySettings = [`port = ${standbyPort}`, ...(options.applyDelay ? [`recovery_min_apply_delay = '${options.applyDelay}'`] : [])];
    fs.appendFileSync(path.join(standbyDir, 'postgresql.auto.conf'), `${standbySettings.join('\n')}\n`);
    pgRun('pg_ctl', ['-D', standbyDir, '-l', path.join(workDir, 'standby.log'), '-w', 'start']);
    standbyUp = true;
    pair.primaryUrl = url(primaryPort, options.database);
    pair.standbyUrl = url(standbyPort, options.database);
    return pair;
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
    pair.stop();
    if (stderr) throw new Error(`${(error as Error).message.split('\n')[0]}: ${stderr.slice(0, 1000)}`);
    throw error;
  }
}

async function run(url: string, statements: string[]): Promise<void> {
  if (statements.length === 0) return;
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    for (const statement of statements) await client.query(statement);
  } finally {
    await client.end();
  }
}
