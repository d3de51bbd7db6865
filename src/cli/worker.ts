import 'reflect-metadata';
import { ConfigError, config, ensureConfig } from '../platform/config';
import { closeDatabase } from '../platform/db';
import { connectDatabase } from '../platform/db/bootstrap';
import { closeRedis } from '../platform/redis';
import { closeJobs, initJobs, scheduleRepeatingJobs, startJobProcessing } from '../jobs';
import { jobOptions } from '../platform/jobs/types';
import { exitOnSignals, shutdown, type Closer } from '../lifecycle';
import { getMailService } from '../platform/mail/mail.service';
import { logger } from '../platform/utils/logger';

// npm run worker: processes the queues on Redis, beside (or instead of) the API's own workers.

async function main(): Promise<void> {
  ensureConfig();
  if (!config.redisUrl) {
    // Without Redis jobs live in the memory of the API process: a separate worker would see none of them.
    process.stderr.write('worker: REDIS_URL is not set. The worker reads jobs from Redis; without REDIS_URL the API runs them itself.\n');
    process.exit(1);
  }

  const closers: Closer[] = [];
  let stopping = false;
  exitOnSignals(async () => {
    stopping = true;
    await shutdown(undefined, closers, config.shutdownTimeoutMs);
  });

  const { embedded } = await connectDatabase();
  closers.push({ name: 'jobs', close: closeJobs }, { name: 'redis', close: closeRedis }, { name: 'database', close: closeDatabase });
  if (embedded?.owned) closers.push({ name: 'embedded PostgreSQL', close: () => embedded.stop() });

  // Templates compile now, so a missing one stops the worker instead of failing every mail job.
  getMailService();
  initJobs();
  if (stopping) return;
  await startJobProcessing();
  await scheduleRepeatingJobs();

  const queues = [...new Set(Object.values(jobOptions).map((options) => options.queue))];
  logger.info(`worker ready on queues ${queues.join(', ')}`, { queues, prefix: config.redisPrefix });
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) process.stderr.write(`Configuration error: ${error.message}\n`);
  else logger.error('worker failed to start', { error: error instanceof Error ? { message: error.message, stack: error.stack } : String(error) });
  process.exit(1);
});
