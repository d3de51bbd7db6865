import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import type { Measurement } from './api-process';
import { serverBinDir, serverBinariesMissing, startStreamingPair, type StreamingPair } from './pg-cluster';

/**
 * The "Read replicas" rows of `npm run bench`: a PostgreSQL primary of the bench's own and a
 * streaming standby made from it (bench/pg-cluster.ts, as tests/cluster/replica.test.ts makes
 * them). Both load pg_stat_statements, whose call counts say which server ran the API's statements.
 */

export const REPLICA_DATABASE = 'bench';
/**
 * The standby must run at least this share of the API's statements for the target to pass: the
 * router sends a read to the primary when every connection of the replica's pool is busy, so
 * under 50 connections the two share the reads rather than the standby taking them all.
 */
export const REPLICA_SHARE_TARGET = 0.25;

/** Undefined when a primary and standby can be made here, else why not. */
export function replicaUnavailable(): string | undefined {
  const bin = serverBinDir();
  if (!bin) return serverBinariesMissing();
  const lib = execFileSync(path.join(bin, 'pg_config'), ['--pkglibdir']).toString().trim();
  if (!fs.existsSync(path.join(lib, 'pg_stat_statements.so'))) return `no pg_stat_statements in ${lib}`;
  return undefined;
}

/** `postgres (PostgreSQL) 15.x (…)` of the binaries the rows use. */
export function replicaServerVersion(): string {
  const bin = serverBinDir();
  return bin ? execFileSync(path.join(bin, 'postgres'), ['--version']).toString().trim() : 'none';
}

/** What bench/run.ts calls on an interrupt and at its end, so that no pair outlives the bench. */
export { stopStreamingPairs as stopReplicaPairs } from './pg-cluster';

/** A primary and a standby with pg_stat_statements loaded and the bench's database made on them. */
export function startReplicaPair(): Promise<StreamingPair> {
  return startStreamingPair({
    tmpPrefix: 'marketplace-bench-replica-',
    database: REPLICA_DATABASE,
    // As the embedded PostgreSQL of the other rows.
    maxConnections: 200,
    primarySettings: ["shared_preload_libraries = 'pg_stat_statements'", 'pg_stat_statements.track = top', 'pg_stat_statements.track_planning = on'],
    databaseSetup: ['CREATE EXTENSION pg_stat_statements'],
  });
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
export async function waitForStandby(pair: StreamingPair, timeoutMs = 300_000): Promise<number> {
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
