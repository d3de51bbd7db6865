/**
 * The performance targets of issue 20, each judged from the rows of one `npm run bench` run: the
 * ratios to the bare node:http + pg server measured in the same run, the p99 of the catalog reads
 * as deployed and of the statistics, and the API's largest RSS under the bench's load.
 */
import { REPLICA_SHARE_TARGET, standbyShare, type ReplicaRun } from './replicas';
import { STATS_P99_TARGET_MS } from './stats';

/** Checkout: API orders/s at this share of the bare server's or more, with its checkout p99 under CHECKOUT_P99_TARGET_MS. */
export const CHECKOUT_RATIO_TARGET = 0.6;
export const CHECKOUT_P99_TARGET_MS = 150;
/** Hot product: API orders/s at this share of the bare server's or more. */
export const HOT_PRODUCT_RATIO_TARGET = 0.7;
/** Catalog reads with the API's caches off, as a share of the bare server's requests/s. */
export const PRODUCT_RATIO_TARGET = 0.7;
export const SEARCH_RATIO_TARGET = 0.7;
export const LONG_TAIL_RATIO_TARGET = 0.8;
/** p99 of every catalog read, the API as deployed (its caches on). */
export const READ_P99_TARGET_MS = 100;
/** Largest RSS of the API as deployed, over every row it served. */
export const RSS_TARGET_MB = 250;

/** The catalog rows the ratio targets are set on. */
export type CatalogRole = 'product' | 'search' | 'longTail';

export interface ReadFigures {
  requestsPerSecond: number;
  p99: number;
  errors: number;
  requests: number;
  rssMb: number;
}

export interface CheckoutFigures {
  ordersPerSecond: number;
  p99: number;
  errors: number;
  /** False when the stock or pricing audit failed. */
  audited: boolean;
}

export interface TargetInputs {
  /** `floor` and `alone`: the Express floor and Express alone (bench/express-floor.ts) on the same requests, for the rows they serve. */
  catalog: Array<{ name: string; role?: CatalogRole; api: ReadFigures; uncached: ReadFigures; bare?: ReadFigures; floor?: ReadFigures; alone?: ReadFigures }>;
  /** The checkout row and the hot product row, when the run had them. */
  checkout?: { api: CheckoutFigures; bare: CheckoutFigures };
  hotProduct?: { api: CheckoutFigures; bare: CheckoutFigures };
  /** The statistics rows the p99 target is set on (the 365-day overview, the daily series). */
  stats: Array<{ name: string; result: ReadFigures }>;
  /** The API as deployed: its peak RSS during each row it served. */
  rss: Array<{ name: string; rssMb: number }>;
  /** The read replica rows (list and search with one streaming replica, and without), when the run had them. */
  replicas?: ReplicaRun;
}

export type Verdict = 'PASS' | 'FAIL' | 'not measured';

export interface Target {
  target: string;
  measured: string;
  verdict: Verdict;
}

const percent = (share: number) => `${Math.round(share * 100)} %`;
const errorsNote = (errors: number, side = '') => (errors > 0 ? `; ${errors.toLocaleString('en-US')} ${side}errors` : '');

function notMeasured(target: string): Target {
  return { target, measured: 'not measured in this run', verdict: 'not measured' };
}

function readRatio(target: string, share: number, row: TargetInputs['catalog'][number] | undefined): Target {
  if (!row?.bare) return notMeasured(target);
  const { uncached: u, bare: b, floor: f, alone: e } = row;
  const ofBare = (figures: ReadFigures) => figures.requestsPerSecond / Math.max(1, b.requestsPerSecond);
  const ratio = ofBare(u);
  const ok = ratio >= share && u.requests > 0 && u.errors === 0 && b.errors === 0;
  // Not judged: where Express with the hardening, and Express by itself, stand on the same requests.
  const floorNote = f ? `; Express floor ${percent(ofBare(f))}${errorsNote(f.errors, 'floor ')}` : '';
  const aloneNote = e ? `, Express alone ${percent(ofBare(e))}${errorsNote(e.errors, 'Express alone ')}` : '';
  return {
    target,
    measured: `${percent(ratio)}: ${u.requestsPerSecond} / ${b.requestsPerSecond} req/s (${row.name})${floorNote}${aloneNote}${errorsNote(u.errors, 'API ')}${errorsNote(b.errors, 'bare ')}`,
    verdict: ok ? 'PASS' : 'FAIL',
  };
}

function checkoutRatio(target: string, share: number, name: string, row: TargetInputs['checkout']): Target {
  if (!row) return notMeasured(target);
  const { api: a, bare: b } = row;
  const ratio = a.ordersPerSecond / Math.max(1, b.ordersPerSecond);
  const audit = a.audited && b.audited ? '' : '; the audit failed';
  return {
    target,
    measured: `${percent(ratio)}: ${a.ordersPerSecond} / ${b.ordersPerSecond} orders/s (${name})${errorsNote(a.errors, 'API ')}${errorsNote(b.errors, 'bare ')}${audit}`,
    verdict: ratio >= share && a.errors === 0 && b.errors === 0 && !audit ? 'PASS' : 'FAIL',
  };
}

function p99Target(target: string, limitMs: number, name: string, figures: { p99: number; errors: number; requests?: number } | undefined, unit = ''): Target {
  if (!figures) return notMeasured(target);
  const ok = figures.p99 < limitMs && figures.errors === 0 && (figures.requests ?? 1) > 0;
  return { target, measured: `p99 ${figures.p99} ms (${name}${unit})${errorsNote(figures.errors)}`, verdict: ok ? 'PASS' : 'FAIL' };
}

/** Read replicas: the rows ran without errors, with and without the replica, the standby ran its share of the API's statements, and the API's RSS with the replica stayed under the RSS target. */
function replicaTarget(target: string, run: ReplicaRun | undefined): Target {
  if (!run) return notMeasured(target);
  if (run.skipped) return { target, measured: `not measured: ${run.skipped}`, verdict: 'not measured' };
  if (run.failed || run.rows.length === 0) return { target, measured: `the rows failed: ${run.failed ?? 'no rows'}`, verdict: 'FAIL' };
  const errors = run.rows.reduce((sum, entry) => sum + entry.withReplica.errors + entry.without.errors, 0);
  const measured = run.rows.every((entry) => entry.withReplica.requests > 0 && entry.without.requests > 0);
  const served = run.rows.every((entry) => standbyShare(entry.withReplica) >= REPLICA_SHARE_TARGET);
  // The API's memory with a replica is bounded as without one: reads served there must not be kept (0: not sampled, not judged bounded).
  const bounded = run.rows.every((entry) => entry.withReplica.rssMb > 0 && entry.withReplica.rssMb < RSS_TARGET_MB);
  const parts = run.rows.map(
    ({ name, withReplica: r, without: n }) =>
      `${name.split(',')[0]}: standby ran ${percent(standbyShare(r))} of the statements, ${r.requestsPerSecond} req/s (${n.requestsPerSecond} without), RSS ${r.rssMb} MB`,
  );
  return { target, measured: `${parts.join('; ')}${errorsNote(errors)}`, verdict: errors === 0 && measured && served && bounded ? 'PASS' : 'FAIL' };
}

/** Every target of the issue, judged from the rows measured (a target whose rows the run left out is "not measured"). */
export function judgeTargets(inputs: TargetInputs): Target[] {
  const role = (name: CatalogRole) => inputs.catalog.find((row) => row.role === name);
  const targets: Target[] = [
    checkoutRatio(`checkout: API orders/s ≥ ${percent(CHECKOUT_RATIO_TARGET)} of bare`, CHECKOUT_RATIO_TARGET, 'checkout', inputs.checkout),
    p99Target(`checkout: API checkout p99 < ${CHECKOUT_P99_TARGET_MS} ms`, CHECKOUT_P99_TARGET_MS, 'checkout', inputs.checkout?.api, ', the checkout request'),
    checkoutRatio(`hot product: API orders/s ≥ ${percent(HOT_PRODUCT_RATIO_TARGET)} of bare`, HOT_PRODUCT_RATIO_TARGET, 'hot product', inputs.hotProduct),
    readRatio(`product by slug, uncached: req/s ≥ ${percent(PRODUCT_RATIO_TARGET)} of bare`, PRODUCT_RATIO_TARGET, role('product')),
    readRatio(`search, uncached: req/s ≥ ${percent(SEARCH_RATIO_TARGET)} of bare`, SEARCH_RATIO_TARGET, role('search')),
    readRatio(`long-tail list, uncached: req/s ≥ ${percent(LONG_TAIL_RATIO_TARGET)} of bare`, LONG_TAIL_RATIO_TARGET, role('longTail')),
  ];
  if (inputs.catalog.length === 0) targets.push(notMeasured(`every catalog read: p99 < ${READ_P99_TARGET_MS} ms as deployed`));
  for (const row of inputs.catalog) {
    targets.push(p99Target(`${row.name}: p99 < ${READ_P99_TARGET_MS} ms as deployed`, READ_P99_TARGET_MS, `${row.api.requestsPerSecond} req/s`, row.api));
  }
  if (inputs.stats.length === 0) targets.push(notMeasured(`statistics: p99 < ${STATS_P99_TARGET_MS} ms`));
  for (const row of inputs.stats) {
    targets.push(p99Target(`${row.name}: p99 < ${STATS_P99_TARGET_MS} ms`, STATS_P99_TARGET_MS, `${row.result.requestsPerSecond} req/s`, row.result));
  }
  const served = inputs.rss.filter((entry) => entry.rssMb > 0);
  if (served.length === 0) targets.push(notMeasured(`API RSS < ${RSS_TARGET_MB} MB as deployed`));
  else {
    const peak = served.reduce((max, entry) => (entry.rssMb > max.rssMb ? entry : max));
    const over = served.filter((entry) => entry.rssMb >= RSS_TARGET_MB).length;
    targets.push({
      target: `API RSS < ${RSS_TARGET_MB} MB as deployed`,
      measured: `peak ${peak.rssMb} MB (${peak.name}); ${over} of ${served.length} rows at ${RSS_TARGET_MB} MB or more`,
      verdict: peak.rssMb < RSS_TARGET_MB ? 'PASS' : 'FAIL',
    });
  }
  targets.push(replicaTarget(`read replicas: list and search served with one replica, no errors, RSS < ${RSS_TARGET_MB} MB`, inputs.replicas));
  return targets;
}

/** The targets as a Markdown table: target, what was measured (with the numbers it comes from), verdict. */
export function targetsTable(targets: Target[]): string {
  const verdict = (value: Verdict) => (value === 'FAIL' ? '**FAIL**' : value);
  return [
    '| target | measured | verdict |',
    '| --- | --- | --- |',
    ...targets.map((entry) => `| ${entry.target} | ${entry.measured} | ${verdict(entry.verdict)} |`),
  ].join('\n');
}
