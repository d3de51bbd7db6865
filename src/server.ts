import 'reflect-metadata';
import type { Server } from 'node:http';
import { createApp } from './app';
import { ConfigError, config, ensureConfig } from './platform/config';
import { closeDatabase } from './platform/db';
import { connectDatabase, runPending } from './platform/db/bootstrap';
import { closeReadReplicas, startReadReplicas } from './platform/db/replicas';
import { seedDemoDataOnFirstStart } from './platform/db/demo-seed';
import { closeRedis } from './platform/redis';
import { closeJobs, getJobs, initJobs, scheduleRepeatingJobs, startJobProcessing } from './jobs';
import { exitOnSignals, shutdown, type Closer } from './lifecycle';
import { flushViews, startCatalogCacheSync, stopCatalogCacheSync } from './modules/catalog';
import { getMailService } from './platform/mail/mail.service';
import { logger } from './platform/utils/logger';

let stopEmbedded: (() => Promise<void>) | undefined;

async function main(): Promise<void> {
  const settings = ensureConfig();
  for (const warning of settings.warnings) logger.warn(warning);
  const closers: Closer[] = [];
  const http: { server?: Server } = {};
  exitOnSignals(() => shutdown(http.server, closers, config.shutdownTimeoutMs));
  const { sequelize, embedded } = await connectDatabase();
  closers.push({ name: 'read replicas', close: closeReadReplicas }, { name: 'database', close: closeDatabase });
  if (embedded?.owned) {
    closers.push({ name: 'embedded PostgreSQL', close: () => embedded.stop() });
    stopEmbedded = () => embedded.stop();
  }

  const applied = await runPending(sequelize);
  if (applied.length > 0) logger.info('migrations applied', { migrations: applied });
  // config.seedDemoData is false in production, where an embedded database cannot be configured either.
  if (embedded && config.seedDemoData) await seedDemoDataOnFirstStart();

  // Templates compile now, so a missing one stops the start instead of a mail later.
  getMailService();
  initJobs();
  const runsWorkers = !config.redisUrl || config.jobsInApi;
  if (runsWorkers) await startJobProcessing();
  await scheduleRepeatingJobs();

  const app = createApp();
  // Their health checks start now, so that the replicas are usable by the first requests.
  startReadReplicas();
  // Other API processes' catalog writes clear this one's caches within a second.
  startCatalogCacheSync();
  const server = app.listen(config.port, config.host);
  http.server = server;
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  // Keep-alive a little longer than common load balancers, so they never reuse a socket we closed.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;

  // View counts held in memory are written before the pool closes.
  closers.unshift(
    { name: 'view counts', close: flushViews },
    { name: 'catalog cache sync', close: async () => stopCatalogCacheSync() },
    { name: 'jobs', close: closeJobs },
    { name: 'redis', close: closeRedis },
  );

  logger.info('listening', {
    port: config.port,
    env: config.env,
    database: embedded ? `embedded (${embedded.dataDir})` : 'DATABASE_URL',
    jobs: `${getJobs().kind}${runsWorkers ? ', workers in this process' : ''}`,
  });
  // Alone on its line, last: in development it is the line a person looks for (README, Quick start).
  logger.info(`API ready at ${config.appUrl}/api, docs at ${config.appUrl}/api/docs`);
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`Configuration error: ${error.message}\n`);
  } else {
    logger.error('failed to start', { error: error instanceof Error ? { message: error.message, stack: error.stack } : String(error) });
  }
  // Do not leave a PostgreSQL behind that this failed start launched.
  void (stopEmbedded?.() ?? Promise.resolve()).finally(() => process.exit(1));
});
