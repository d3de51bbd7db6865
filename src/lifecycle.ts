import type { Server } from 'node:http';
import { logger } from './utils/logger';

export type Closer = { name: string; close: () => Promise<unknown> };

/**
 * Stops accepting connections, lets in-flight requests finish (bounded by timeoutMs), then runs
 * the closers in order (workers, queues, pool, embedded PostgreSQL). Resolves when all is closed.
 */
export async function shutdown(server: Server | undefined, closers: Closer[], timeoutMs: number): Promise<void> {
  if (server) {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    // Idle keep-alive sockets would hold close() open; sockets with a request in flight are left to finish.
    server.closeIdleConnections();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    const outcome = await Promise.race([closed.then(() => 'closed' as const), timedOut]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      logger.warn('in-flight requests did not finish in time; closing their connections', { timeoutMs });
      server.closeAllConnections();
      await closed;
    }
  }
  for (const closer of closers) {
    try {
      await closer.close();
    } catch (error) {
      logger.error('error while closing', { component: closer.name, error: (error as Error).message });
    }
  }
}

/** Runs `shutdown` once on SIGTERM or SIGINT and exits 0 (1 if closing failed outright). */
export function exitOnSignals(run: () => Promise<void>): void {
  let started = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (started) return;
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
