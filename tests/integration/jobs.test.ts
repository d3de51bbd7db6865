import crypto from 'node:crypto';
import type { JobDriver } from '../../src/platform/jobs/drivers';
import type { JobHandlers, JobPayloads } from '../../src/platform/jobs/types';

// A namespace of our own on the shared Redis, set before anything reads the configuration.
process.env.REDIS_PREFIX = `test-jobs-${process.pid}-${crypto.randomBytes(3).toString('hex')}`;

// Loaded after the line above: the logger reads the configuration when it is imported.
type Modules = {
  inline: typeof import('../../src/platform/jobs/inline.driver');
  bullmq: typeof import('../../src/platform/jobs/bullmq.driver');
  types: typeof import('../../src/platform/jobs/types');
  jobs: typeof import('../../src/jobs');
  config: typeof import('../../src/platform/config');
  redis: typeof import('../../src/platform/redis');
};
let modules: Modules;

beforeAll(async () => {
  modules = {
    inline: await import('../../src/platform/jobs/inline.driver'),
    bullmq: await import('../../src/platform/jobs/bullmq.driver'),
    types: await import('../../src/platform/jobs/types'),
    jobs: await import('../../src/jobs'),
    config: await import('../../src/platform/config'),
    redis: await import('../../src/platform/redis'),
  };
});

const BACKOFF_SCALE = 0.001;
type Payload = JobPayloads['email.send'];
type Handler = JobHandlers['email.send'];

function payload(marker: string): Payload {
  return { template: 'welcome', to: `${marker}@jobs.test`, data: { marker } };
}

/** A handler table where only mail does something: these tests are about the drivers, not the jobs. */
function emailOnly(handler: Handler): JobHandlers {
  const idle = async () => undefined;
  return {
    'catalog.flush-views': idle,
    'orders.expire-unpaid': idle,
    'payments.apply-event': idle,
    'payments.settle-refund': idle,
    'payments.cancel-intents': idle,
    'payments.sweep-refunds': idle,
    'stats.compact-order-status': idle,
    'payouts.run': idle,
    'payouts.transfer': idle,
    'webhooks.deliver': idle,
    'email.send': handler,
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls every 50 ms; the deadline is generous because how soon is not what these tests are about. */
async function waitUntil(what: string, check: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(50);
  }
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

/** The same behaviour, whichever driver runs the jobs. */
function driverContract(makeDriver: (handler: Handler) => JobDriver): void {
  const open: JobDriver[] = [];
  const make = (handler: Handler): JobDriver => {
    const driver = makeDriver(handler);
    open.push(driver);
    return driver;
  };

  afterEach(async () => {
    await Promise.all(open.splice(0).map((driver) => driver.close()));
  });

  it('keeps enqueued jobs waiting until the workers start, then runs them', async () => {
    const seen: Payload[] = [];
    const driver = make(async (job) => {
      seen.push(job);
    });
    await driver.enqueue('email.send', payload('waits'));
    await sleep(100);
    expect(seen).toHaveLength(0);
    expect((await driver.depths()).email.waiting).toBe(1);

    await driver.startWorkers();
    await driver.whenIdle();
    expect(seen).toEqual([payload('waits')]);
  });

  it('retries a failing job with backoff until it succeeds', async () => {
    let calls = 0;
    const driver = make(async () => {
      calls += 1;
      if (calls <= 2) throw new Error(`transient failure ${calls}`);
    });
    await driver.startWorkers();
    await driver.enqueue('email.send', payload('flaky'));
    await driver.whenIdle();
    expect(calls).toBe(3);
    expect((await driver.deadLetters()).filter((letter) => (letter.payload as Payload).to === 'flaky@jobs.test')).toEqual([]);
  });

  it('dead-letters a job that fails every attempt', async () => {
    const { attempts } = modules.types.jobOptions['email.send'];
    let calls = 0;
    const driver = make(async () => {
      calls += 1;
      throw new Error('smtp is down');
    });
    await driver.startWorkers();
    await driver.enqueue('email.send', payload('doomed'));
    await driver.whenIdle();
    expect(calls).toBe(attempts);
    const letters = (await driver.deadLetters()).filter((letter) => (letter.payload as Payload).to === 'doomed@jobs.test');
    expect(letters).toEqual([{ type: 'email.send', payload: payload('doomed'), error: 'smtp is down', attempts }]);
  });

  it('queues a job with a given id once', async () => {
    const seen: string[] = [];
    const driver = make(async (job) => {
      seen.push(job.to);
    });
    const jobId = `once-${crypto.randomBytes(4).toString('hex')}`;
    await driver.enqueue('email.send', payload('once'), { jobId });
    await driver.enqueue('email.send', payload('once-again'), { jobId });
    await driver.startWorkers();
    await driver.whenIdle();
    // Also after the first has run: a finished job keeps its id for a while.
    await driver.enqueue('email.send', payload('once-later'), { jobId });
    await driver.whenIdle();
    expect(seen).toEqual(['once@jobs.test']);
  });

  it('refuses a job id BullMQ would refuse', async () => {
    const driver = make(async () => undefined);
    await expect(driver.enqueue('email.send', payload('bad-id'), { jobId: 'payout:1' })).rejects.toThrow(/job id/);
    await expect(driver.enqueue('email.send', payload('bad-id'), { jobId: '42' })).rejects.toThrow(/job id/);
  });

  it('waits for a running job when closing', async () => {
    const started = deferred();
    let finished = false;
    const driver = make(async () => {
      started.resolve();
      await sleep(300);
      finished = true;
    });
    await driver.startWorkers();
    await driver.enqueue('email.send', payload('slow'));
    await started.promise;
    await driver.close();
    expect(finished).toBe(true);
  });

  it('runs a delayed job only after its delay', async () => {
    const seen: number[] = [];
    const driver = make(async () => {
      seen.push(Date.now());
    });
    await driver.startWorkers();
    const enqueuedAt = Date.now();
    await driver.enqueue('email.send', payload('later'), { delayMs: 300 });
    // "Not yet" is judged on the time the job ran, not on a look after a sleep: a stalled test
    // process can wake up after the delay is over.
    await waitUntil('the delayed job runs', () => seen.length > 0);
    expect(seen).toHaveLength(1);
    expect(seen[0] - enqueuedAt).toBeGreaterThanOrEqual(290);
  });

  it('runs a schedule at once, then every period, one run at a time', async () => {
    let runs = 0;
    const driver = make(async () => {
      runs += 1;
    });
    await driver.startWorkers();
    await driver.schedule('email.send', 200);
    // Scheduling again (another process starting) does not add a second schedule.
    await driver.schedule('email.send', 200);
    await waitUntil('three runs of the schedule', () => runs >= 3);
    expect(runs).toBeLessThanOrEqual(5);
  });
}

describe('inline job driver', () => {
  driverContract((handler) => modules.inline.createInlineDriver(emailOnly(handler), { backoffScale: BACKOFF_SCALE }));

  it('waits for pending retries before it is idle', async () => {
    let calls = 0;
    const driver = modules.inline.createInlineDriver(
      {
        ...emailOnly(async () => undefined),
        'email.send': async () => {
          calls += 1;
          if (calls === 1) throw new Error('first try fails');
        },
      },
      // The real first backoff (2 s) scaled to 200 ms.
      { backoffScale: 0.1 },
    );
    await driver.startWorkers();
    await driver.enqueue('email.send', payload('patient'));
    const before = Date.now();
    await driver.whenIdle();
    expect(calls).toBe(2);
    expect(Date.now() - before).toBeGreaterThanOrEqual(190);
    await driver.close();
  });

  it('refuses to wait for idle when workers never started', async () => {
    const driver = modules.inline.createInlineDriver(emailOnly(async () => undefined));
    await driver.enqueue('email.send', payload('stuck'));
    await expect(driver.whenIdle()).rejects.toThrow(/startWorkers/);
    await driver.close();
  });
});

const describeRedis = process.env.REDIS_URL ? describe : describe.skip;

/** Removes every queue of this file from the shared Redis, schedules included. */
async function obliterateQueues(): Promise<void> {
  const { Queue } = await import('bullmq');
  const { types, config, redis } = modules;
  const connection = redis.createRedisConnection({ maxRetriesPerRequest: null });
  for (const name of [...types.QUEUE_NAMES, types.DEAD_LETTER_QUEUE]) {
    const queue = new Queue(name, { connection, prefix: config.config.redisPrefix });
    await queue.obliterate({ force: true });
    await queue.close();
  }
  // Its connection is quit by closeRedis() at the end of the file.
}

afterAll(async () => {
  if (!process.env.REDIS_URL) return;
  // The facade below uses BullMQ too when REDIS_URL is set.
  await obliterateQueues();
  await modules.redis.closeRedis();
});

describeRedis('BullMQ job driver', () => {
  // The schedule of the contract lives in Redis: it must not feed jobs to the tests after this block.
  afterAll(obliterateQueues);

  driverContract((handler) => modules.bullmq.createBullmqDriver(emailOnly(handler), { backoffScale: BACKOFF_SCALE }));

  it('namespaces its keys with REDIS_PREFIX', async () => {
    const driver = modules.bullmq.createBullmqDriver(emailOnly(async () => undefined));
    await driver.enqueue('email.send', payload('prefixed'), { delayMs: 60_000 });
    const connection = modules.redis.createRedisConnection();
    const keys = await connection.keys(`${process.env.REDIS_PREFIX}:email:*`);
    expect(keys.length).toBeGreaterThan(0);
    await driver.close();
  });
});

describe('jobs facade', () => {
  afterEach(async () => {
    await modules.jobs.closeJobs();
  });

  it('refuses other handlers once initialised', () => {
    modules.jobs.initJobs();
    expect(() => modules.jobs.initJobs({ handlers: { 'email.send': async () => undefined } })).toThrow(/closeJobs/);
    expect(modules.jobs.getJobs()).toBe(modules.jobs.initJobs());
  });
});
