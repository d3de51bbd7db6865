import 'reflect-metadata';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { Presets, SingleBar } from 'cli-progress';
import { QueryTypes } from 'sequelize';
import { closeDatabase, initDatabase } from '../src/db';
import { runPending } from '../src/db/bootstrap';
import { startEmbeddedPostgres } from '../src/db/embedded-postgres';
import { generateCatalog } from '../src/db/seed/catalog';
import { freePort } from '../src/utils/net';

/**
 * npm run bench: seeds 10,000 products into a fresh embedded PostgreSQL, starts the API in
 * production mode and a bare node:http + pg server that runs the same SQL, drives both with
 * autocannon (50 connections, 10 s after a warm-up), and writes the table to docs/PERFORMANCE.md.
 * BENCH_PRODUCTS, BENCH_SECONDS, BENCH_CONNECTIONS change the sizes.
 */

const root = path.resolve(__dirname, '..');
const PRODUCTS = Number(process.env.BENCH_PRODUCTS ?? 10_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);

interface Scenario {
  name: string;
  path: string;
  /** Path of the same request on the bare server, when it has one. */
  barePath?: string;
}

interface Measurement {
  requestsPerSecond: number;
  p50: number;
  p99: number;
  errors: number;
  requests: number;
  rssMb: number;
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

async function drive(url: string, seconds: number, pid: number): Promise<Measurement> {
  let peakRss = rssMb(pid);
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, rssMb(pid));
  }, 250);
  const result = await autocannon({ url, connections: CONNECTIONS, duration: seconds, pipelining: 1 });
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

async function measure(baseUrl: string, scenario: string, pathAndQuery: string, pid: number): Promise<Measurement> {
  const url = `${baseUrl}${pathAndQuery}`;
  const probe = await fetch(url);
  if (!probe.ok) throw new Error(`${scenario}: ${url} answered ${probe.status}: ${(await probe.text()).slice(0, 300)}`);
  await drive(url, WARMUP_SECONDS, pid);
  return drive(url, SECONDS, pid);
}

function startProcess(script: string, env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, [script], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
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

async function main(): Promise<void> {
  const started = Date.now();
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'marketplace-bench-'));
  log(`bench: ${PRODUCTS} products, ${CONNECTIONS} connections, ${SECONDS} s per row after ${WARMUP_SECONDS} s warm-up`);

  log('building (npm run build)…');
  execFileSync('npm', ['run', '-s', 'build'], { cwd: root, stdio: 'inherit' });

  const pg = await startEmbeddedPostgres({ dataDir: workDir, database: 'bench' });
  const children: ChildProcess[] = [];
  const stopAll = async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
    await Promise.all(children.map((child) => (child.exitCode === null ? new Promise((resolve) => child.once('exit', resolve)) : undefined)));
    await closeDatabase().catch(() => undefined);
    await pg.stop();
    fs.rmSync(workDir, { recursive: true, force: true });
  };
  process.once('SIGINT', () => void stopAll().finally(() => process.exit(130)));

  try {
    const sequelize = initDatabase(pg.url);
    await runPending(sequelize);
    const bar = new SingleBar({ format: 'seeding [{bar}] {value}/{total} products', noTTYOutput: true, notTTYSchedule: 2000 }, Presets.shades_classic);
    bar.start(PRODUCTS, 0);
    await generateCatalog(sequelize, { products: PRODUCTS, sellers: 50, bcryptRounds: 4, seed: 7, onProgress: (done) => bar.update(done) });
    bar.stop();
    await sequelize.query('VACUUM ANALYZE');

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
    await closeDatabase();

    const scenarios: Scenario[] = [
      { name: 'list, page 1', path: '/api/products?page=1&limit=20', barePath: '/list?page=1' },
      { name: 'list, page 250', path: '/api/products?page=250&limit=20', barePath: '/list?page=250' },
      { name: 'list, category + price, by price', path: `/api/products?category=${category.slug}&minPrice=10&maxPrice=1000&sortBy=price&sortOrder=asc&limit=20` },
      { name: `search "${word.word}"`, path: `/api/products/search?q=${encodeURIComponent(word.word)}&limit=20` },
      { name: 'product by slug', path: `/api/products/${product.slug}`, barePath: `/product/${product.slug}` },
    ];

    const apiEnv = {
      NODE_ENV: 'production',
      DATABASE_URL: pg.url,
      JWT_SECRET: randomBytes(48).toString('base64url'),
      JWT_REFRESH_SECRET: randomBytes(48).toString('base64url'),
      RATE_LIMIT_MAX: '100000000',
      REDIS_URL: '',
      LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info',
      DATA_DIR: workDir,
    };
    const apiPort = await freePort();
    const api = startProcess('dist/src/server.js', { ...apiEnv, PORT: String(apiPort) });
    children.push(api);
    // The same API with its catalog caches off: what every request costs when nothing is reused.
    const uncachedPort = await freePort();
    const uncached = startProcess('dist/src/server.js', { ...apiEnv, PORT: String(uncachedPort), PUBLIC_CACHE_TTL_MS: '0', LISTING_TOTALS_TTL_MS: '0' });
    children.push(uncached);
    const barePort = await freePort();
    const bare = startProcess('dist/bench/bare-server.js', { PORT: String(barePort), DATABASE_URL: pg.url });
    children.push(bare);
    await waitFor(`http://127.0.0.1:${apiPort}/ready`, api);
    await waitFor(`http://127.0.0.1:${uncachedPort}/ready`, uncached);
    await waitFor(`http://127.0.0.1:${barePort}/health`, bare);

    const results: Array<{ scenario: Scenario; api: Measurement; uncached: Measurement; bare?: Measurement }> = [];
    for (const scenario of scenarios) {
      log(`running: ${scenario.name}`);
      const apiResult = await measure(`http://127.0.0.1:${apiPort}`, scenario.name, scenario.path, api.pid ?? 0);
      const uncachedResult = await measure(`http://127.0.0.1:${uncachedPort}`, `${scenario.name} (uncached)`, scenario.path, uncached.pid ?? 0);
      const bareResult = scenario.barePath
        ? await measure(`http://127.0.0.1:${barePort}`, `bare ${scenario.name}`, scenario.barePath, bare.pid ?? 0)
        : undefined;
      results.push({ scenario, api: apiResult, uncached: uncachedResult, bare: bareResult });
    }

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
      'bare req/s',
      'bare p99 ms',
      'ratio to bare',
      'uncached ratio to bare',
    ]);
    const separator = row(Array(13).fill('---'));
    const lines = results.map(({ scenario, api: a, uncached: u, bare: b }) =>
      row([
        scenario.name,
        a.requestsPerSecond,
        a.p50,
        a.p99,
        a.errors,
        Math.max(a.rssMb, u.rssMb),
        u.requestsPerSecond,
        u.p99,
        u.errors,
        b ? b.requestsPerSecond : '—',
        b ? b.p99 : '—',
        ratio(a, b),
        ratio(u, b),
      ]),
    );
    const table = [header, separator, ...lines].join('\n');
    log(`\n${table}\n`);

    const date = new Date().toISOString().slice(0, 10);
    const pgVersion = execFileSync(path.join(path.dirname(require.resolve(`@embedded-postgres/${os.platform()}-${os.arch()}`, { paths: [path.dirname(require.resolve('embedded-postgres'))] })), '..', 'native', 'bin', 'postgres'), ['--version'])
      .toString()
      .trim();
    const document = `# Performance

Measured by \`npm run bench\` on ${date}: ${PRODUCTS.toLocaleString('en-US')} generated products in a fresh
embedded PostgreSQL (${pgVersion}), the API built and started with \`NODE_ENV=production\` (one
process, no Redis, request logging on; its default configuration, and again with its catalog
caches off: \`PUBLIC_CACHE_TTL_MS=0 LISTING_TOTALS_TTL_MS=0\`), ${CONNECTIONS} connections for ${SECONDS} s per row after a
${WARMUP_SECONDS} s warm-up, autocannon on the same machine.

Machine: ${machine()}.

"bare" is a plain \`node:http\` + \`pg\` server (\`bench/bare-server.ts\`) that runs the same SQL as
the API for the list page and the product, with no framework, validation or logging: the floor of
what Node can do here. Load generator, server and PostgreSQL share the machine's cores, and
run-to-run variation on a shared machine can reach a third: compare rows of one run.

${table}

Targets: list page 1 and product by slug at 50 % or more of the bare server; search at 1,000
requests/s or more; p99 under 100 ms for every row; no errors; server RSS under 300 MB.

Reading the table:

- The first columns are the API as deployed. Anonymous catalog answers are reused for
  \`PUBLIC_CACHE_TTL_MS\` (1 s) and listing totals for \`LISTING_TOTALS_TTL_MS\` (10 s), so a
  page that many visitors ask for costs one query per second. A benchmark that repeats one URL is
  the best case for that cache; the uncached columns are the worst case, where every request
  validates, queries and serializes.
- Uncached, the API runs the same SQL as the bare server (one statement per page: the count and
  the page as two index-driven subqueries, the page chosen from the index before any row is
  read), so the gap to it is the cost of Express, validation, logging and serialization.
- The bare server counts every time; it has no cache of any kind.
`;
    fs.writeFileSync(path.join(root, 'docs', 'PERFORMANCE.md'), document);
    log(`wrote docs/PERFORMANCE.md (${Math.round((Date.now() - started) / 1000)} s in all)`);
  } finally {
    await stopAll();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
