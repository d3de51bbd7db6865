import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { freePort } from '../src/platform/utils/net';
import type { Measurement } from './api-process';

/**
 * The "Read replicas" rows of `npm run bench`: a PostgreSQL primary of the bench's own (initdb
 * with the machine's server binaries, /usr/lib/postgresql/<version>/bin, wal_level=replica) and a
 * streaming standby made from it by `pg_basebackup -R`, as tests/cluster/replica.test.ts builds
 * them (the embedded PostgreSQL of the other rows ships no pg_basebackup, and a standby must run
 * the primary's major version). As root, PostgreSQL's programs run as the postgres user.
 * Both load pg_stat_statements, whose call counts say which server ran the API's statements.
 */

const ROOT = '/usr/lib/postgresql';
export const REPLICA_DATABASE = 'bench';
/**
 * The standby must run at least this share of the API's statements for the target to pass: the
 * router sends a read to the primary when every connection of the replica's pool is busy, so
 * under 50 connections the two share the reads rather than the standby taking them all.
 */
export const REPLICA_SHARE_TARGET = 0.25;

/** The newest server binaries that include pg_basebackup and pg_stat_statements, or undefined. */
function binDir(): string | undefined {
  const versions = fs.existsSync(ROOT) ? fs.readdirSync(ROOT).filter((version) => fs.existsSync(path.join(ROOT, version, 'bin', 'pg_basebackup'))) : [];
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0];
  return newest ? path.join(ROOT, newest, 'bin') : undefined;
}

/** Undefined when a primary and standby can be made here, else why not. */
export function replicaUnavailable(): string | undefined {
  const bin = binDir();
  if (!bin) return `no ${ROOT}/<version>/bin/pg_basebackup (the PostgreSQL server binaries: apt-get install postgresql)`;
  const lib = execFileSync(path.join(bin, 'pg_config'), ['--pkglibdir']).toString().trim();
  if (!fs.existsSync(path.join(lib, 'pg_stat_statements.so'))) return `no pg_stat_statements in ${lib}`;
  return undefined;
}

/** `postgres (PostgreSQL) 15.x (…)` of the binaries the rows use. */
export function replicaServerVersion(): string {
  const bin = binDir();
  return bin ? execFileSync(path.join(bin, 'postgres'), ['--version']).toString().trim() : 'none';
}

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

function owner(): { uid?: number; gid?: number } {
  if (!isRoot) return {};
  return { uid: Number(execFileSync('id', ['-u', 'postgres']).toString().trim()), gid: Number(execFileSync('id', ['-g', 'postgres']).toString().trim()) };
}

export interface ReplicaPair {
  workDir: string;
  primaryUrl: string;
  standbyUrl: string;
  /** Stops both servers (the standby at once, the primary fast) and deletes their clusters; safe to call twice. */
  stop(): void;
}

/** Pairs started and not yet stopped, for the bench's clean-up on an interrupt. */
const running = new Set<ReplicaPair>();

/** Stops every pair still running (synchronously: usable from an exit path). */
export function stopReplicaPairs(): void {
  for (const pair of [...running]) pair.stop();
}

/**
 * initdb a primary (wal_level=replica, pg_stat_statements preloaded, trust on 127.0.0.1 for
 * connections and replication), start it on a free port, make the database, then a standby with
 * `pg_basebackup -R -X stream` started on another free port. Everything lives in one temporary
 * directory that stop() deletes.
 */
export async function startReplicaPair(): Promise<ReplicaPair> {
  const bin = binDir();
  if (!bin) throw new Error(replicaUnavailable());
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'marketplace-bench-replica-'));
  const primaryDir = path.join(workDir, 'primary');
  const standbyDir = path.join(workDir, 'standby');
  const runAs = owner();
  // Not the 0700 of mkdtemp: the postgres user makes the clusters inside.
  fs.chmodSync(workDir, 0o755);
  if (runAs.uid !== undefined) fs.chownSync(workDir, runAs.uid, runAs.gid!);
  const pgRun = (program: string, args: string[]) =>
    execFileSync(path.join(bin, program), args, { ...runAs, cwd: workDir, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, LC_ALL: 'C' }, timeout: 300_000 });
  let primaryUp = false;
  let standbyUp = false;
  const pair: ReplicaPair = {
    workDir,
    primaryUrl: '',
    standbyUrl: '',
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
      // The rows only read; the seeding is all that writes, and nothing here needs to survive a crash.
      'fsync = off',
      // As the embedded PostgreSQL of the other rows.
      'max_connections = 200',
      "shared_preload_libraries = 'pg_stat_statements'",
      'pg_stat_statements.track = top',
      'pg_stat_statements.track_planning = on',
    ];
    // trust for local TCP, replication included (initdb's pg_hba.conf has the replication lines).
    pgRun('initdb', ['-D', primaryDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C', '-N']);
    fs.appendFileSync(path.join(primaryDir, 'postgresql.conf'), `\n${settings.join('\n')}\n`);
    fs.appendFileSync(path.join(primaryDir, 'pg_hba.conf'), '\nhost replication all 127.0.0.1/32 trust\n');
    pgRun('pg_ctl', ['-D', primaryDir, '-l', path.join(workDir, 'primary.log'), '-w', 'start']);
    primaryUp = true;
    const url = (port: number, database: string) => `postgres://postgres@127.0.0.1:${port}/${database}`;
    await query(url(primaryPort, 'postgres'), `CREATE DATABASE ${REPLICA_DATABASE}`);
    await query(url(primaryPort, REPLICA_DATABASE), 'CREATE EXTENSION pg_stat_statements');

    pgRun('pg_basebackup', ['-h', '127.0.0.1', '-p', String(primaryPort), '-U', 'postgres', '-D', standbyDir, '-R', '-X', 'stream', '-c', 'fast']);
    fs.appendFileSync(path.join(standbyDir, 'postgresql.auto.conf'), `port = ${standbyPort}\n`);
    pgRun('pg_ctl', ['-D', standbyDir, '-l', path.join(workDir, 'standby.log'), '-w', 'start']);
    standbyUp = true;
    pair.primaryUrl = url(primaryPort, REPLICA_DATABASE);
    pair.standbyUrl = url(standbyPort, REPLICA_DATABASE);
    return pair;
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
    pair.stop();
    if (stderr) throw new Error(`${(error as Error).message.split('\n')[0]}: ${stderr.slice(0, 1000)}`);
    throw error;
  }
}

async function query<T extends Record<string, unknown>>(url: string, text: string): Promise<T[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text)).rows as T[];
  } finally {
    await client.end();
  }
}

/** Waits until the standby has replayed everything the primary has written so far; returns how long it took. */
export async function waitForStandby(pair: ReplicaPair, timeoutMs = 300_000): Promise<number> {
  const started = Date.now();
  const [{ lsn }] = await query<{ lsn: string }>(pair.primaryUrl, 'SELECT pg_current_wal_lsn()::text AS lsn');
  for (;;) {
    const [{ behind }] = await query<{ behind: string | null }>(pair.standbyUrl, `SELECT pg_wal_lsn_diff('${lsn}', pg_last_wal_replay_lsn())::text AS behind`);
    if (behind !== null && Number(behind) <= 0) return Date.now() - started;
    if (Date.now() - started > timeoutMs) throw new Error(`the standby was still ${behind ?? '?'} bytes behind after ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** What one server's pg_stat_statements holds of the API's statements: executions, and milliseconds planning and running them. */
export interface StatementStats {
  calls: number;
  planMs: number;
  execMs: number;
}

/** The difference of two readings. */
export function statementDelta(after: StatementStats, before: StatementStats): StatementStats {
  return { calls: after.calls - before.calls, planMs: after.planMs - before.planMs, execMs: after.execMs - before.execMs };
}

/**
 * The API's statements as one server has counted them (pg_stat_statements, its own counts: a
 * standby counts what it ran): every statement but the replica router's WAL checks, session
 * settings, transaction control and the bench's own reads of the counts.
 */
export async function statementStats(url: string): Promise<StatementStats> {
  const [row] = await query<{ calls: string; plan: string; exec: string }>(
    url,
    `SELECT coalesce(sum(s.calls), 0)::text AS calls, coalesce(sum(s.total_plan_time), 0)::text AS plan, coalesce(sum(s.total_exec_time), 0)::text AS exec
       FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
      WHERE d.datname = current_database()
        AND s.query NOT ILIKE '%pg_stat_statements%'
        AND s.query NOT ILIKE '%pg_last_wal_replay_lsn%'
        AND s.query NOT ILIKE '%pg_current_wal_flush_lsn%'
        AND s.query !~* '^\\s*(SET|BEGIN|START|COMMIT|ROLLBACK|SHOW)\\M'`,
  );
  return { calls: Number(row.calls), planMs: Number(row.plan), execMs: Number(row.exec) };
}

/** One server's measured figures for one request. */
export interface ReplicaMeasurement extends Measurement {
  /** The API's statements the standby and the primary ran during the measured seconds. */
  standby: StatementStats;
  primary: StatementStats;
  /** Share of the machine's CPU time in use during the row (warm-up included). */
  machineBusy: number;
}

export interface ReplicaRow {
  name: string;
  /** autocannon's connections. */
  connections: number;
  withReplica: ReplicaMeasurement;
  without: ReplicaMeasurement;
}

export interface ReplicaRun {
  rows: ReplicaRow[];
  /** Why the rows were not measured (no binaries). */
  skipped?: string;
  /** Why the rows failed (an error while measuring them). */
  failed?: string;
  /** `postgres --version` of the pair, and how long the standby took to replay the seeded catalog. */
  server?: string;
  catchUpMs?: number;
}

/** The standby's share of the API's statements, 0 when none were counted. */
export function standbyShare(m: ReplicaMeasurement): number {
  const total = m.standby.calls + m.primary.calls;
  return total > 0 ? m.standby.calls / total : 0;
}

/** Milliseconds per statement, planning + running ('—' when none ran). */
export function perStatement(stats: StatementStats): string {
  return stats.calls > 0 ? `${(stats.planMs / stats.calls).toFixed(2)} + ${(stats.execMs / stats.calls).toFixed(2)}` : '—';
}

const percent = (share: number) => `${Math.round(share * 100)} %`;

/** The API's DB_POOL_MAX in these rows (its default, 10, unless the bench's environment sets it). */
function poolMax(): number {
  return Number(process.env.DB_POOL_MAX ?? 10);
}

export function replicaTable(run: ReplicaRun): string {
  if (run.skipped) return `Not measured in this run: ${run.skipped}.`;
  if (run.failed) return `**Failed** in this run: ${run.failed}`;
  const header = [
    'request',
    '1 replica req/s',
    'p50 ms',
    'p99 ms',
    'errors',
    'RSS MB',
    'statements on standby / primary',
    'standby share',
    'ms per statement, plan + run: standby / primary',
    'no replica req/s',
    'p50 ms',
    'p99 ms',
    'errors',
    'RSS MB',
    'no replica ms per statement',
    'ratio replica / none',
    'machine busy replica / none',
  ];
  const line = (cells: Array<string | number>) => `| ${cells.join(' | ')} |`;
  const count = (n: number) => n.toLocaleString('en-US');
  return [
    line(header),
    line(header.map(() => '---')),
    ...run.rows.map(({ name, withReplica: r, without: n }) =>
      line([
        name,
        r.requestsPerSecond,
        r.p50,
        r.p99,
        r.errors,
        r.rssMb,
        `${count(r.standby.calls)} / ${count(r.primary.calls)}`,
        percent(standbyShare(r)),
        `${perStatement(r.standby)} / ${perStatement(r.primary)}`,
        n.requestsPerSecond,
        n.p50,
        n.p99,
        n.errors,
        n.rssMb,
        perStatement(n.primary),
        percent(r.requestsPerSecond / Math.max(1, n.requestsPerSecond)),
        `${r.machineBusy} % / ${n.machineBusy} %`,
      ]),
    ),
  ].join('\n');
}

/** What the rows say, in a sentence for the text under the table. */
export function replicaSummary(run: ReplicaRun): string {
  if (run.skipped || run.failed || run.rows.length === 0) return '';
  const parts = run.rows.map(({ name, withReplica: r, without: n }) => {
    const ratio = r.requestsPerSecond / Math.max(1, n.requestsPerSecond);
    return `${name.split(',')[0]}: ${r.requestsPerSecond} req/s with the replica, ${n.requestsPerSecond} without (${percent(ratio)}), the standby running ${percent(standbyShare(r))} of the statements`;
  });
  const busy = Math.max(...run.rows.map((entry) => entry.without.machineBusy));
  const reading =
    `The standby is one more PostgreSQL on the same ${os.cpus().length} cores (the machine was up to ${busy} % busy without it): it moves work to ` +
    'other processes on the same CPUs rather than adding any, so the ratio is no measure of what a replica on a machine of its own adds.';
  const replanned = run.rows.filter(({ withReplica: r }) => r.standby.calls > 0 && r.standby.planMs / r.standby.calls > 2 * (r.primary.planMs / Math.max(1, r.primary.calls)) + 0.05);
  const planning =
    replanned.length > 0
      ? ' On the standby every statement was planned again: ' +
        replanned.map(({ name, withReplica: r }) => `${name.split(',')[0]} ${perStatement(r.standby)} ms (plan + run) against ${perStatement(r.primary)} ms on the primary`).join(', ') +
        ', where the API runs them as prepared statements.'
      : '';
  const overflow = run.rows.some(({ withReplica: r }) => standbyShare(r) < 0.9 && r.primary.calls > 0)
    ? ` The standby ran ${run.rows.map(({ withReplica: r }) => percent(standbyShare(r))).join(' and ')} of the statements, not all: the router passes over a replica whose ` +
      `\`DB_POOL_MAX\` (${poolMax()}) connections are all busy rather than queue on it, and with ${run.rows[0]?.connections ?? 'the'} connections asking at once ` +
      'the reads beyond those connections ran on the primary (a larger pool for the replica would keep them there).'
    : '';
  return `In this run: ${parts.join('; ')}. ${reading}${planning}${overflow}`;
}
