import { constants } from 'node:os';
import type { Server } from 'node:http';
import { logger } from './platform/utils/logger';

export type Closer = { name: string; close: () => Promise<unknown> };

/** Waits for `work` until `deadline` (epoch ms): 'done', 'failed' (it threw) or 'timeout'. */
async function until(work: Promise<unknown>, deadline: number): Promise<'done' | 'failed' | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), Math.max(0, deadline - Date.now()));
  });
  try {
    return await Promise.race([work.then(() => 'done' as const, () => 'failed' as const), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Stops accepting connections, lets in-flight requests finish, then runs the closers in order
 * (workers, queues, pool, embedded PostgreSQL). All of it together takes at most timeoutMs: a
 * dependency that never answers (Redis down, a network dropping packets) would otherwise hold
 * the process until the orchestrator's SIGKILL. A closer still running at the deadline is
 * logged and left behind; those after it are skipped.
 */
export async function shutdown(server: Server | undefined, closers: Closer[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  if (server) {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    // Idle keep-alive sockets would hold close() open; sockets with a request in flight are left to finish.
    server.closeIdleConnections();
    if ((await until(closed, deadline)) === 'timeout') {
      logger.warn('in-flight requests did not finish in time; closing their connections', { timeoutMs });
      server.closeAllConnections();
    }
  }
  for (const closer of closers) {
    if (Date.now() >= deadline) {
      logger.warn('shutdown time is up; not closed', { component: closer.name, timeoutMs });
      continue;
    }
    const closing = Promise.resolve().then(closer.close);
    // A closer left behind may still fail after the process has moved on: that is no crash.
    closing.catch((error: unknown) => logger.error('error while closing', { component: closer.name, error: (error as Error).message }));
    const outcome = await until(closing, deadline);
    if (outcome === 'timeout') logger.warn('did not close in time; skipped', { component: closer.name, timeoutMs });
  }
}

/**
 * Runs `shutdown` once on SIGTERM or SIGINT and exits 0 (1 if closing failed outright). A second
 * SIGTERM or SIGINT meanwhile exits at once (128 + the signal's number, as a shell reports it):
 * the operator pressing Ctrl-C again, or a supervisor that will not wait, decides.
 */
export function exitOnSignals(run: () => Promise<void>): void {
  let started = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (started) {
      logger.warn('second signal while shutting down; exiting now', { signal });
      process.exit(128 + (constants.signals[signal] ?? 0));
    }
    started = true;
    logger.info('shutting down', { signal });
    run().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error('shutdown failed', { error: (error as Error).message });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
