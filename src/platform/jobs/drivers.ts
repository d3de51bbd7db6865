import { config } from '../config';
import type { JobHandlers } from './types';
import type { JobDriver } from './driver';
import { createBullmqDriver } from './bullmq.driver';
import { createInlineDriver } from './inline.driver';

export type { DeadLetter, EnqueueOptions, JobHandlers, JobOutcome, RecordedJobOptions } from './types';

export type { JobDriver } from './driver';

/** BullMQ when REDIS_URL is set, else in-process. */
export function createJobDriver(handlers: JobHandlers): JobDriver {
  return config.redisUrl ? createBullmqDriver(handlers) : createInlineDriver(handlers);
}

