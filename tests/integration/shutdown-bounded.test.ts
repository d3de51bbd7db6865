import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import Redis from 'ioredis';
import { freePort } from '../../src/platform/utils/net';
import { createDatabaseFromTemplate, databaseUrl, dropDatabase } from '../support/database';

const describeRedis = process.env.REDIS_URL ? describe : describe.skip;
const root = path.resolve(__dirname, '..', '..');

/**
 * A way to Redis that can turn into a black hole: connections stay open (and new ones are
 * accepted) but nothing comes back, as when Redis hangs or the network between drops packets.
 * Closing a client then waits for an answer that never comes.
 */
class BlackHole {
  private server?: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private swallowing = false;

  constructor(private readonly target: URL) {}

  async start(): Promise<number> {
    this.server = net.createServer((client) => {
      this.track(client);
      if (this.swallowing) {
        client.pause();
        return;
      }
      const upstream = net.connect(Number(this.target.port || 6379), this.target.hostname);
      this.track(upstream);
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    return (this.server!.address() as net.AddressInfo).port;
  }

  swallow(): void {
    this.swallowing = true;
    for (const socket of this.sockets) {
      socket.unpipe();
      socket.pause();
    }
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private track(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.sockets.delete(socket));
  }
}

interface Spawned {
  kill: (signal: NodeJS.Signals) => void;
  output: () => string;
  /** Resolves with the time the output first matched `pattern`, as soon as it arrives. */
  printed: (pattern: RegExp) => Promise<number>;
  /** Resolves with the exit code, and how long after `since` the process ended. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
}

/** A script of src/ in a process of its own (node itself, so that signals reach the app). */
function spawnScript(script: string, env: NodeJS.ProcessEnv): Spawned {
  const child = spawn(process.execPath, ['--require', 'tsx/cjs', script], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const waiters = new Map<RegExp, (at: number) => void>();
  const append = (chunk: Buffer) => {
    output += chunk.toString();
    const at = Date.now();
    for (const [pattern, resolve] of waiters) {
      if (!pattern.test(output)) continue;
      waiters.delete(pattern);
      resolve(at);
    }
  };
  child.stdout.on('data', append);
  child.stderr.on('data', append);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() })),
  );
  const printed = (pattern: RegExp) => {
    if (pattern.test(output)) return Promise.reject(new Error(`${pattern} was printed before it was waited for`));
    const seen = new Promise<number>((resolve) => waiters.set(pattern, resolve));
    const died = exited.then(({ code, signal }) => {
      throw new Error(`the process ended (${signal ?? code}) without printing ${pattern}:\n${output.slice(-4000)}`);
    });
    return Promise.race([seen, died]);
  };
  return { kill: (signal) => child.kill(signal), output: () => output, printed, exited };
}

async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 40_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** The exit, or 'still running' once `ms` have passed. */
async function exitWithin(process: Spawned, ms: number) {
  let timer: NodeJS.Timeout | undefined;
  const waited = new Promise<'still running'>((resolve) => {
    timer = setTimeout(() => resolve('still running'), ms);
  });
  try {
    return await Promise.race([process.exited, waited]);
  } finally {
    clearTimeout(timer);
  }
}

describeRedis('shutdown with Redis hanging', () => {
  const SHUTDOWN_TIMEOUT_MS = 2000;
  // The clock starts when the process says it is shutting down, which is when its own deadline
  // starts: a loaded machine may take a while to run the handler of a signal, which no timeout
  // of the app can bound. The process ends its closers at the timeout, then exits.
  const MARGIN_MS = 2500;
  // "At once" against a first shutdown that waits for a minute: a loaded machine may need seconds
  // to run the handler and end the process, never a minute.
  const AT_ONCE_MS = 10_000;
  const SHUTTING_DOWN = /shutting down/;
  const prefix = `${process.env.REDIS_PREFIX ?? 't'}sd`;
  let name: string;
  const spawned: Spawned[] = [];
  const holes: BlackHole[] = [];

  beforeAll(async () => {
    name = await createDatabaseFromTemplate();
  });

  afterEach(async () => {
    for (const process of spawned.splice(0)) process.kill('SIGKILL');
    for (const hole of holes.splice(0)) await hole.stop();
  });

  afterAll(async () => {
    await dropDatabase(name);
    const redis = new Redis(process.env.REDIS_URL!);
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });

  async function start(script: 'src/server.ts' | 'src/cli/worker.ts', env: Record<string, string> = {}): Promise<{ process: Spawned; hole: BlackHole; port: number }> {
    const hole = new BlackHole(new URL(process.env.REDIS_URL!));
    holes.push(hole);
    const redisPort = await hole.start();
    const port = await freePort();
    const child = spawnScript(script, {
      ...process.env,
      NODE_ENV: 'development',
      LOG_LEVEL: 'info',
      DATABASE_URL: databaseUrl(name),
      REDIS_URL: `redis://127.0.0.1:${redisPort}`,
      REDIS_PREFIX: prefix,
      PORT: String(port),
      SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
      ...env,
    });
    spawned.push(child);
    const ready = script === 'src/server.ts' ? 'API ready at' : 'worker ready on queues';
    await waitFor(`"${ready}"`, () => child.output().includes(ready));
    return { process: child, hole, port };
  }

  it('the API exits within SHUTDOWN_TIMEOUT_MS of a SIGTERM, skipping what does not close in time', async () => {
    const { process: server, hole, port } = await start('src/server.ts');
    expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);
    hole.swallow();

    const shuttingDown = server.printed(SHUTTING_DOWN);
    server.kill('SIGTERM');
    const signalled = await shuttingDown;
    const exit = await exitWithin(server, SHUTDOWN_TIMEOUT_MS + MARGIN_MS);
    expect(exit).not.toBe('still running');
    if (exit === 'still running') return;
    expect(exit.at - signalled).toBeLessThan(SHUTDOWN_TIMEOUT_MS + MARGIN_MS);
    expect(server.output()).toMatch(/did not close in time/);
  }, 60_000);

  it('the API exits at once on a second SIGTERM while it is shutting down', async () => {
    const { process: server, hole } = await start('src/server.ts', { SHUTDOWN_TIMEOUT_MS: '60000' });
    hole.swallow();

    const shuttingDown = server.printed(SHUTTING_DOWN);
    server.kill('SIGTERM');
    await shuttingDown;
    // The first signal waits on Redis, for up to a minute.
    expect(await exitWithin(server, 1000)).toBe('still running');
    const signalled = Date.now();
    server.kill('SIGTERM');
    const exit = await exitWithin(server, AT_ONCE_MS);
    expect(exit).not.toBe('still running');
    if (exit === 'still running') return;
    expect(exit.at - signalled).toBeLessThan(AT_ONCE_MS);
    expect(exit.code).not.toBe(0);
  }, 60_000);

  it('the worker exits within SHUTDOWN_TIMEOUT_MS of a SIGTERM', async () => {
    const { process: worker, hole } = await start('src/cli/worker.ts');
    hole.swallow();

    const shuttingDown = worker.printed(SHUTTING_DOWN);
    worker.kill('SIGTERM');
    const signalled = await shuttingDown;
    const exit = await exitWithin(worker, SHUTDOWN_TIMEOUT_MS + MARGIN_MS);
    expect(exit).not.toBe('still running');
    if (exit === 'still running') return;
    expect(exit.at - signalled).toBeLessThan(SHUTDOWN_TIMEOUT_MS + MARGIN_MS);
  }, 60_000);

  it('the worker exits at once on a SIGINT after a SIGTERM', async () => {
    const { process: worker, hole } = await start('src/cli/worker.ts', { SHUTDOWN_TIMEOUT_MS: '60000' });
    hole.swallow();

    const shuttingDown = worker.printed(SHUTTING_DOWN);
    worker.kill('SIGTERM');
    await shuttingDown;
    expect(await exitWithin(worker, 1000)).toBe('still running');
    worker.kill('SIGINT');
    const exit = await exitWithin(worker, AT_ONCE_MS);
    expect(exit).not.toBe('still running');
    if (exit !== 'still running') expect(exit.code).not.toBe(0);
  }, 60_000);
});
