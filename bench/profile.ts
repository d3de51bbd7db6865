import 'reflect-metadata';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { Pool } from 'pg';
import { QueryTypes } from 'sequelize';
import { closeDatabase, initDatabase } from '../src/platform/db';
import { runPending } from '../src/platform/db/bootstrap';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../src/platform/db/embedded-postgres';
import { generateCatalog } from '../src/seed/catalog';
import { freePort } from '../src/platform/utils/net';
import { API_SCRIPT, apiEnvFor, apiNodeFlags } from './api-process';
import { API_ENDPOINTS, checkoutVariants, cpuTimes, createCustomers, pickTwo, PROMO_CODE, randomPassword, runCheckoutLoop, signIn, type PoolProduct } from './checkout';
import { formatSummary, summarize, type CpuProfile, type Summary } from './profile-summary';

/**
 * CPU profiles of the API under load, one path at a time: the checkout loop of `npm run bench`
 * (add two variants to the cart, put the code on it, check out), an uncached product page by slug,
 * uncached multi-word searches, and the uncached list's long tail (pages 2–91 in turn). Each path gets its own API process (built dist/, production
 * mode, as the bench starts it) run with `node --cpu-prof`; only the samples of the measured
 * seconds (after a warm-up) are summarized (bench/profile-summary.ts). During those seconds
 * pg_stat_activity is sampled (what the API's connections are doing) and pg_stat_statements
 * counts the statements run (the round trips per request).
 *
 *   tsx bench/profile.ts [checkout] [product] [search] [list]
 *
 * PROFILE_DIR (/tmp/prof) receives the .cpuprofile files and a JSON report per path;
 * PROFILE_SECONDS (15) and PROFILE_WARMUP_SECONDS (3) time each load; BENCH_PRODUCTS,
 * BENCH_VARIANTS, BENCH_CONNECTIONS and BENCH_CHECKOUT_POOL size it as in bench/run.ts.
 *
 * PROFILE_PIN=1 runs the API alone on CPU 0 and PostgreSQL and this script on the other CPUs
 * (taskset). V8 samples by signal: a thread taken off its core while runnable takes one sample
 * where it stopped when it runs again, and sharing cores with PostgreSQL and the load generator,
 * the API is taken off its core right after the socket writes that wake them, hundreds of times
 * a second. Those samples land on the writes and inflate them; pinned, the profile shows where
 * the API's CPU time goes. Unpinned (the default) the processes share the cores as in the bench.
 */

const root = path.resolve(__dirname, '..');
const PRODUCTS = Number(process.env.BENCH_PRODUCTS ?? 10_000);
const VARIANTS = Number(process.env.BENCH_VARIANTS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const CHECKOUT_POOL = Number(process.env.BENCH_CHECKOUT_POOL ?? 100);
const SECONDS = Number(process.env.PROFILE_SECONDS ?? 15);
const WARMUP_SECONDS = Number(process.env.PROFILE_WARMUP_SECONDS ?? 3);
const OUT_DIR = process.env.PROFILE_DIR ?? '/tmp/prof';
/** Multi-word search queries the search load rotates through. */
const SEARCH_QUERIES = 200;
const SEARCH_WORDS = 3;
/** How often pg_stat_activity is read during the measured seconds. */
const ACTIVITY_EVERY_MS = 50;
/** Connections of this script carry this name, so that the samples and statement counts leave them out. */
const OWN_APPLICATION = 'profile-harness';
const PIN = process.env.PROFILE_PIN === '1';
/** The CPUs of everything but the API, when pinned. */
const OTHER_CPUS = `1-${Math.max(1, os.cpus().length - 1)}`;

type PathName = 'checkout' | 'product' | 'search' | 'list';
const PATHS: PathName[] = ['checkout', 'product', 'search', 'list'];

function log(message: string): void {
  process.stdout.write(`${message}\n`);
}

/** Microseconds of CLOCK_MONOTONIC: the clock of the V8 profile's timestamps. */
function monotonicUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

interface ActivityCounts {
  samples: number;
  /** Sum over the samples of the API's connections in each state (state / wait event type: wait event). */
  states: Record<string, number>;
}

/** Reads pg_stat_activity every ACTIVITY_EVERY_MS until stopped: the API's connections by state and wait. */
function sampleActivity(db: Pool): { stop: () => Promise<ActivityCounts> } {
  const counts: ActivityCounts = { samples: 0, states: {} };
  let running = true;
  const loop = (async () => {
    while (running) {
      const { rows } = await db.query<{ state: string; n: number }>(
        `SELECT coalesce(state, '?') || coalesce(' / ' || wait_event_type || ': ' || wait_event, '') AS state, count(*)::int AS n
           FROM pg_stat_activity
          WHERE datname = current_database() AND backend_type = 'client backend' AND application_name <> $1 AND pid <> pg_backend_pid()
          GROUP BY 1`,
        [OWN_APPLICATION],
      );
      counts.samples += 1;
      for (const row of rows) counts.states[row.state] = (counts.states[row.state] ?? 0) + row.n;
      await new Promise((resolve) => setTimeout(resolve, ACTIVITY_EVERY_MS));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return counts;
    },
  };
}

interface StatementCount {
  query: string;
  calls: number;
  /** Execution and planning time in PostgreSQL, per call. */
  meanMs: number;
  meanPlanMs: number;
  totalMs: number;
}

/** The statements of the measured seconds, from pg_stat_statements, but this script's own. */
async function statements(db: Pool): Promise<StatementCount[]> {
  const { rows } = await db.query<StatementCount>(
    `SELECT regexp_replace(left(s.query, 160), '\\s+', ' ', 'g') AS query, s.calls::int AS calls,
            round(s.mean_exec_time::numeric, 3)::float AS "meanMs", round(s.mean_plan_time::numeric, 3)::float AS "meanPlanMs",
            round((s.total_exec_time + s.total_plan_time)::numeric, 1)::float AS "totalMs"
       FROM pg_stat_statements s
      WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
        AND s.query NOT LIKE '%pg_stat_activity%' AND s.query NOT LIKE '%pg_stat_statements%'
      ORDER BY s.calls DESC, s.total_exec_time DESC`,
  );
  return rows;
}

/**
 * A process's CPU seconds in user space and in the kernel (all threads), and the times its main
 * thread was taken off a core while runnable: each of those can add one sample, wherever the
 * thread stopped, to its CPU profile.
 */
function processCpu(pid: number): { user: number; system: number; preempted: number } {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const preempted = /nonvoluntary_ctxt_switches:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return { user: Number(fields[11]) / 100, system: Number(fields[12]) / 100, preempted: Number(preempted?.[1] ?? 0) };
  } catch {
    return { user: 0, system: 0, preempted: 0 };
  }
}

/** The PostgreSQL server's processes: the postmaster and every process it started. */
function postgresPids(pgdata: string): number[] {
  const postmaster = Number(fs.readFileSync(path.join(pgdata, 'postmaster.pid'), 'utf8').split('\n')[0]);
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      // The 2nd field after the command name is the parent's pid.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (Number(entry) === postmaster || ppid === postmaster) pids.push(Number(entry));
    } catch {
      // The process ended meanwhile.
    }
  }
  return pids;
}

/** CPU seconds so far of the PostgreSQL server (processes that ended meanwhile are not counted). */
function postgresCpu(pgdata: string): number {
  return postgresPids(pgdata).reduce((total, pid) => {
    const { user, system } = processCpu(pid);
    return total + user + system;
  }, 0);
}

interface Load {
  /** Requests answered in the measured seconds (the checkout loop: its four requests per order). */
  requests: number;
  /** What the log line says of the run. */
  detail: string;
}

interface Measured {
  name: PathName;
  description: string;
  /** The .cpuprofile the API wrote on its way out. */
  profile: string;
  load: Load;
  window: { from: number; to: number };
  cpu: {
    apiSeconds: number;
    /** The API's share of its CPU time spent in the kernel (socket writes and reads, stdout). */
    apiSystemShare: number;
    /** Times the API's main thread was taken off a core while runnable. */
    apiPreempted: number;
    postgresSeconds: number;
    harnessSeconds: number;
    machineBusy: number;
    wallSeconds: number;
  };
  activity: ActivityCounts;
  statements: StatementCount[];
  summary?: Summary;
}

interface Api {
  child: ChildProcess;
  url: string;
  profile: string;
}

async function startApi(name: PathName, env: Record<string, string>): Promise<Api> {
  const port = await freePort();
  const profileName = `${name}.cpuprofile`;
  fs.rmSync(path.join(OUT_DIR, profileName), { force: true });
  const node = [process.execPath, ...apiNodeFlags(), '--cpu-prof', `--cpu-prof-dir=${OUT_DIR}`, `--cpu-prof-name=${profileName}`, API_SCRIPT];
  // taskset execs node in its place: the child's pid is the API's.
  const [command, ...args] = PIN ? ['taskset', '-c', '0', ...node] : node;
  const child = spawn(command, args, {
    cwd: root,
    env: { ...process.env, ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // The request log goes to stdout: read it (a full pipe would stall the API), keep the tail for a failed start.
  let tail = '';
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString()).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the API exited with code ${child.exitCode}:\n${tail}`);
    if (Date.now() > deadline) throw new Error(`the API did not answer /ready in time:\n${tail}`);
    try {
      if ((await fetch(`${url}/ready`)).ok) break;
    } catch {
      // not up yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return { child, url, profile: path.join(OUT_DIR, profileName) };
}

/** SIGTERM: the API shuts down and exits, and Node writes the profile on the way out. */
async function stopApi(api: Api): Promise<void> {
  if (api.child.exitCode === null) {
    const exited = new Promise((resolve) => api.child.once('exit', resolve));
    api.child.kill('SIGTERM');
    const timer = setTimeout(() => api.child.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(timer);
  }
}

/** What a load calls when its measured seconds start and when they end. */
interface Clock {
  start: () => Promise<void>;
  end: () => Promise<void>;
}

type Drive = (api: Api, clock: Clock) => Promise<Load>;

/**
 * Runs `drive` (warm-up, then the measured seconds) against a fresh API process and measures the
 * measured seconds: CPU of the API, PostgreSQL and this script, pg_stat_activity samples,
 * pg_stat_statements counts, and the profile's samples in that window.
 */
async function measurePath(db: Pool, pg: EmbeddedPostgres, name: PathName, description: string, env: Record<string, string>, drive: Drive): Promise<Measured> {
  log(`profiling: ${name} (${description})`);
  const api = await startApi(name, env);
  try {
    const window = { from: 0, to: 0 };
    const pid = api.child.pid ?? 0;
    let before = { api: cpuTimes(pid), split: processCpu(pid), postgres: 0, harness: process.cpuUsage() };
    let after = { ...before };
    let sampler: ReturnType<typeof sampleActivity> | undefined;
    let activity: ActivityCounts = { samples: 0, states: {} };
    let counted: StatementCount[] = [];
    const clock: Clock = {
      start: async () => {
        await db.query('SELECT pg_stat_statements_reset()');
        sampler = sampleActivity(db);
        before = { api: cpuTimes(pid), split: processCpu(pid), postgres: postgresCpu(pg.dataDir), harness: process.cpuUsage() };
        window.from = monotonicUs();
      },
      end: async () => {
        window.to = monotonicUs();
        after = { api: cpuTimes(pid), split: processCpu(pid), postgres: postgresCpu(pg.dataDir), harness: process.cpuUsage(before.harness) };
        activity = (await sampler?.stop()) ?? activity;
        counted = await statements(db);
      },
    };
    const load = await drive(api, clock);
    if (window.to === 0) throw new Error(`${name}: the load never ended its measured seconds`);
    log(`  ${load.detail}`);
    return {
      name,
      description,
      profile: api.profile,
      load,
      window,
      cpu: {
        apiSeconds: after.api.process - before.api.process,
        apiSystemShare: (after.split.system - before.split.system) / Math.max(0.01, after.api.process - before.api.process),
        apiPreempted: after.split.preempted - before.split.preempted,
        postgresSeconds: after.postgres - before.postgres,
        harnessSeconds: (after.harness.user + after.harness.system) / 1e6,
        machineBusy: Math.round(((after.api.busy - before.api.busy) / Math.max(0.01, after.api.total - before.api.total)) * 100),
        wallSeconds: (window.to - window.from) / 1e6,
      },
      activity,
      statements: counted,
    };
  } finally {
    await stopApi(api);
  }
}

async function autocannonRun(url: string, seconds: number, paths: () => string): Promise<autocannon.Result> {
  return autocannon({
    url,
    connections: CONNECTIONS,
    duration: seconds,
    pipelining: 1,
    requests: [{ setupRequest: (request) => ({ ...request, path: paths() }) }],
  });
}

/** Autocannon for the warm-up, then for the measured seconds. */
function readLoad(paths: () => string): Drive {
  return async (api, clock) => {
    const probe = await fetch(`${api.url}${paths()}`);
    if (!probe.ok) throw new Error(`${api.url}${paths()} answered ${probe.status}: ${(await probe.text()).slice(0, 300)}`);
    await autocannonRun(api.url, WARMUP_SECONDS, paths);
    await clock.start();
    const result = await autocannonRun(api.url, SECONDS, paths);
    await clock.end();
    const errors = result.errors + result.timeouts + result.non2xx;
    return {
      requests: result.requests.total,
      detail: `${Math.round(result.requests.average)} req/s, p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms, ${errors} errors, ${result.requests.total} requests`,
    };
  };
}

function checkoutLoad(db: Pool, products: PoolProduct[]): Drive {
  return async (api, clock) => {
    const password = randomPassword();
    const customers = await createCustomers(db, `profile-${randomBytes(3).toString('hex')}`, CONNECTIONS, password);
    const tokens = await signIn(api.url, customers, password);
    // The loop's own clock: warm-up, then the measured seconds; the last iterations finish after them.
    let ended: Promise<void> = Promise.resolve();
    const timers = [
      setTimeout(() => void clock.start(), WARMUP_SECONDS * 1000),
      setTimeout(() => (ended = clock.end()), (WARMUP_SECONDS + SECONDS) * 1000),
    ];
    const result = await runCheckoutLoop({
      baseUrl: api.url,
      endpoints: API_ENDPOINTS,
      tokens,
      pickVariants: pickTwo(products),
      promoCode: PROMO_CODE,
      warmupSeconds: WARMUP_SECONDS,
      seconds: SECONDS,
      rssMb: () => 0,
    });
    for (const timer of timers) clearTimeout(timer);
    await ended;
    const orders = Math.round(result.ordersPerSecond * SECONDS);
    return {
      // Two adds, the code and the checkout per order.
      requests: orders * 4,
      detail:
        `${result.ordersPerSecond} orders/s (${orders} in the measured seconds), checkout p50 ${result.p50} ms, p99 ${result.p99} ms, ` +
        `add p50 ${result.addP50} ms, p99 ${result.addP99} ms, code p50 ${result.promoP50} ms, p99 ${result.promoP99} ms, ${result.errors} errors` +
        (result.errorSamples.length > 0 ? `; ${result.errorSamples.join(' | ')}` : ''),
    };
  };
}

function writeReport(measured: Measured): void {
  const file = path.join(OUT_DIR, `${measured.name}.json`);
  fs.writeFileSync(file, JSON.stringify(measured, null, 2));
  const { cpu, activity } = measured;
  const perRequest = (seconds: number) => `${((seconds * 1000) / Math.max(1, measured.load.requests)).toFixed(2)} ms`;
  const states = Object.entries(activity.states)
    .sort((a, b) => b[1] - a[1])
    .map(([state, total]) => `${state}: ${(total / Math.max(1, activity.samples)).toFixed(2)}`)
    .join(', ');
  log(
    `  CPU over ${cpu.wallSeconds.toFixed(1)} s: API ${cpu.apiSeconds.toFixed(2)} s (${perRequest(cpu.apiSeconds)} a request; ` +
      `${Math.round(cpu.apiSystemShare * 100)} % in the kernel; taken off a core ${cpu.apiPreempted} times), ` +
      `PostgreSQL ${cpu.postgresSeconds.toFixed(2)} s (${perRequest(cpu.postgresSeconds)} a request), load generator ${cpu.harnessSeconds.toFixed(2)} s; machine ${cpu.machineBusy} % busy`,
  );
  log(`  API connections, mean over ${activity.samples} samples of pg_stat_activity: ${states}`);
  log('  statements (pg_stat_statements, measured seconds):');
  for (const statement of measured.statements.slice(0, 25)) {
    log(
      `    ${String(statement.calls).padStart(7)} calls  ${statement.meanMs.toFixed(3).padStart(8)} ms exec  ${statement.meanPlanMs.toFixed(3).padStart(7)} ms plan  ` +
        statement.query.slice(0, 100),
    );
  }
  if (measured.summary) {
    // The main thread's busy time, from its share of the samples over the window, spread over the areas.
    const { busySamples, idleSamples, windowMs } = measured.summary;
    const busyMs = (busySamples / Math.max(1, busySamples + idleSamples)) * windowMs;
    const perRequest = busyMs / Math.max(1, measured.load.requests);
    log(
      `  API main thread busy ${Math.round(busyMs)} ms of ${windowMs} ms, ${perRequest.toFixed(3)} ms a request: ` +
        measured.summary.areas
          .filter((row) => row.samples > 0)
          .map((row) => `${row.name} ${(row.share * perRequest).toFixed(3)}`)
          .join(', '),
    );
    log(formatSummary(measured.name, measured.summary));
  }
  log(`  report: ${file}`);
}

/**
 * A fresh PostgreSQL with pg_stat_statements preloaded: the cluster is made, told to load the
 * library, and started again (the embedded server takes no flags).
 */
async function startPostgres(workDir: string): Promise<EmbeddedPostgres> {
  const first = await startEmbeddedPostgres({ dataDir: workDir, database: 'bench' });
  const setup = new Pool({ connectionString: first.url, max: 1 });
  await setup.query(`ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'`);
  // Planning time too: a prepared statement is still planned at each run while PostgreSQL keeps choosing custom plans for it.
  await setup.query(`ALTER SYSTEM SET pg_stat_statements.track_planning = on`);
  await setup.end();
  await first.stop();
  const pg = await startEmbeddedPostgres({ dataDir: workDir, database: 'bench' });
  const db = new Pool({ connectionString: pg.url, max: 1 });
  await db.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
  await db.end();
  return pg;
}

/** Search texts: SEARCH_WORDS words of one listed product's name and description each, so that every query finds that product at least. */
async function searchQueries(db: Pool): Promise<string[]> {
  const { rows } = await db.query<{ name: string; description: string }>(
    `SELECT name, description FROM products WHERE status = 'active' AND deleted_at IS NULL ORDER BY md5(id::text) LIMIT $1`,
    [SEARCH_QUERIES],
  );
  return rows.map((row) => {
    const words = `${row.name} ${row.description}`
      .toLowerCase()
      .split(/[^a-z]+/)
      .filter((word) => word.length > 3);
    const distinct = [...new Set(words)];
    // Spread over the text: a word of the name, then of the description.
    const step = Math.max(1, Math.floor(distinct.length / SEARCH_WORDS));
    return Array.from({ length: SEARCH_WORDS }, (_, i) => distinct[Math.min(distinct.length - 1, i * step)]).join(' ');
  });
}

async function main(): Promise<void> {
  const chosen = process.argv.slice(2).filter((arg): arg is PathName => (PATHS as string[]).includes(arg));
  const paths = chosen.length > 0 ? chosen : PATHS;
  fs.mkdirSync(OUT_DIR, { recursive: true });
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'marketplace-profile-'));
  log(
    `profile: ${paths.join(', ')}; ${PRODUCTS} products of ${VARIANTS} variants, ${CONNECTIONS} connections, ${SECONDS} s after ${WARMUP_SECONDS} s warm-up` +
      (PIN ? `; the API on CPU 0, PostgreSQL and the load on CPUs ${OTHER_CPUS}` : ''),
  );
  log('building (npm run build)…');
  execFileSync('npm', ['run', '-s', 'build'], { cwd: root, stdio: 'inherit' });

  const pg = await startPostgres(workDir);
  const db = new Pool({ connectionString: pg.url, max: 2, application_name: OWN_APPLICATION });
  try {
    const sequelize = initDatabase(pg.url);
    await runPending(sequelize);
    log('seeding the catalog…');
    await generateCatalog(sequelize, { products: PRODUCTS, sellers: 50, bcryptRounds: 4, seed: 7, variantsPerProduct: VARIANTS });
    await sequelize.query('VACUUM ANALYZE');
    // The product page bench/run.ts asks for.
    const [product] = await sequelize.query<{ slug: string }>("SELECT slug FROM products WHERE status = 'active' ORDER BY created_at DESC OFFSET 100 LIMIT 1", {
      type: QueryTypes.SELECT,
    });
    await closeDatabase();

    if (PIN) {
      // This script's threads, and the postmaster with what it started: backends started later inherit its CPUs.
      execFileSync('taskset', ['-a', '-p', '-c', OTHER_CPUS, String(process.pid)], { stdio: 'ignore' });
      for (const pid of postgresPids(pg.dataDir)) {
        try {
          execFileSync('taskset', ['-a', '-p', '-c', OTHER_CPUS, String(pid)], { stdio: 'ignore' });
        } catch {
          // A backend that ended meanwhile.
        }
      }
    }

    const apiEnv = apiEnvFor(pg.url, workDir);
    // As the bench's uncached columns: every read validates, queries and serializes.
    const uncached = { ...apiEnv, PUBLIC_CACHE_TTL_MS: '0', LISTING_TOTALS_TTL_MS: '0' };

    for (const name of paths) {
      let measured: Measured;
      if (name === 'checkout') {
        // The checkout row's pool and pricing, prepared as bench/run.ts prepares them.
        const { products } = await checkoutVariants(db, CHECKOUT_POOL);
        measured = await measurePath(
          db,
          pg,
          name,
          `closed loop of ${CONNECTIONS} customers: 2 × POST /api/cart/items, POST /api/cart/promo, POST /api/orders; the API in its default configuration`,
          apiEnv,
          checkoutLoad(db, products),
        );
      } else if (name === 'list') {
        let page = 1;
        const pick = () => `/api/products?page=${(page = (page % 90) + 2)}`;
        measured = await measurePath(db, pg, name, `GET /api/products?page=2..91, caches off, ${CONNECTIONS} connections`, uncached, readLoad(pick));
      } else if (name === 'product') {
        const pathOf = `/api/products/${product.slug}`;
        measured = await measurePath(db, pg, name, `GET ${pathOf}, caches off, ${CONNECTIONS} connections`, uncached, readLoad(() => pathOf));
      } else {
        const queries = await searchQueries(db);
        const pick = () => `/api/products/search?q=${encodeURIComponent(queries[Math.floor(Math.random() * queries.length)])}&limit=20`;
        log(`  queries like: ${queries.slice(0, 3).join(' | ')}`);
        measured = await measurePath(
          db,
          pg,
          name,
          `GET /api/products/search?q=<${SEARCH_WORDS} words>&limit=20, ${queries.length} queries drawn at random, caches off, ${CONNECTIONS} connections`,
          uncached,
          readLoad(pick),
        );
      }
      const profile = JSON.parse(fs.readFileSync(measured.profile, 'utf8')) as CpuProfile;
      measured.summary = summarize(profile, measured.window);
      writeReport(measured);
    }
  } finally {
    await db.end();
    await closeDatabase().catch(() => undefined);
    await pg.stop();
    fs.rmSync(workDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`profile failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
