import { QueryTypes } from 'sequelize';
import type { JobDriver } from '../../src/platform/jobs/drivers';
import { closeJobs, initJobs, recordJob, startJobProcessing, whenJobsIdle } from '../../src/jobs';
import { OutboxRelay } from '../../src/platform/jobs/outbox';
import type { JobPayloads } from '../../src/platform/jobs/types';
import { closeRedis } from '../../src/platform/redis';
import { useTestDatabase } from '../support/database';

const db = useTestDatabase();

type Mail = JobPayloads['email.send'];

function mail(marker: string): Mail {
  return { template: 'welcome', to: `${marker}@outbox.test`, data: { marker } };
}

interface OutboxState {
  id: string;
  sent_at: Date | null;
  attempts: number;
  payload: Record<string, unknown>;
}

async function outboxRows(): Promise<OutboxState[]> {
  return db.current.sequelize.query<OutboxState>('SELECT id, sent_at, attempts, payload FROM outbox ORDER BY created_at, id', { type: QueryTypes.SELECT });
}

/** A driver that only remembers what it was given, and can be told to refuse. */
function recordingDriver(): JobDriver & { queued: Array<{ type: string; jobId?: string }>; refuse: boolean } {
  const driver = {
    kind: 'inline' as const,
    queued: [] as Array<{ type: string; jobId?: string }>,
    refuse: false,
    async enqueue(type: string, _payload: unknown, options?: { jobId?: string }) {
      if (driver.refuse) throw new Error('queue unreachable');
      // A little latency, as a network queue has: relays running together overlap.
      await new Promise((resolve) => setTimeout(resolve, 1));
      driver.queued.push({ type, jobId: options?.jobId });
    },
    schedule: async () => undefined,
    startWorkers: async () => undefined,
    depths: async () => ({}),
    whenIdle: async () => undefined,
    deadLetters: async () => [],
    close: async () => undefined,
  };
  return driver;
}

afterEach(async () => {
  await closeJobs();
  await db.current.sequelize.query('DELETE FROM outbox');
});

afterAll(closeRedis);

describe('transactional outbox', () => {
  let seen: string[];

  async function startWithRecordingHandler(): Promise<void> {
    seen = [];
    initJobs({ handlers: { 'email.send': async (job) => void seen.push(job.to) } });
    await startJobProcessing();
  }

  it('delivers a job recorded in a committed transaction, once, and drops its payload from the table', async () => {
    await startWithRecordingHandler();
    await db.current.sequelize.transaction(async (transaction) => {
      await recordJob('email.send', mail('committed'), { transaction });
    });
    await whenJobsIdle();
    expect(seen).toEqual(['committed@outbox.test']);
    const [row] = await outboxRows();
    expect(row.sent_at).not.toBeNull();
    expect(row.payload).toEqual({});
  });

  it('queues nothing when the transaction rolls back', async () => {
    await startWithRecordingHandler();
    await expect(
      db.current.sequelize.transaction(async (transaction) => {
        await recordJob('email.send', mail('rolled-back'), { transaction });
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');
    await whenJobsIdle();
    expect(seen).toEqual([]);
    expect(await outboxRows()).toEqual([]);
  });

  it('queues nothing when COMMIT itself fails (a deferred constraint)', async () => {
    await db.current.sequelize.query(
      'CREATE TABLE deferred_unique (id integer, CONSTRAINT deferred_unique_id_key UNIQUE (id) DEFERRABLE INITIALLY DEFERRED)',
    );
    await startWithRecordingHandler();
    await expect(
      db.current.sequelize.transaction(async (transaction) => {
        await db.current.sequelize.query('INSERT INTO deferred_unique VALUES (1), (1)', { transaction });
        await recordJob('email.send', mail('commit-failed'), { transaction });
      }),
      // Raised by COMMIT: the deferred check runs there.
    ).rejects.toMatchObject({ name: 'SequelizeUniqueConstraintError', sql: 'COMMIT;' });
    await whenJobsIdle();
    expect(seen).toEqual([]);
    expect(await outboxRows()).toEqual([]);
  });

  it('delivers on restart what was committed while no relay ran (a crash between COMMIT and relay)', async () => {
    await recordJob('email.send', mail('before-crash'));
    await db.current.sequelize.transaction(async (transaction) => {
      await recordJob('email.send', mail('in-transaction-before-crash'), { transaction });
    });
    expect((await outboxRows()).map((row) => row.sent_at)).toEqual([null, null]);

    await startWithRecordingHandler();
    await whenJobsIdle();
    expect(seen.sort()).toEqual(['before-crash@outbox.test', 'in-transaction-before-crash@outbox.test']);
  });

  it('holds a delayed job until it is due', async () => {
    await startWithRecordingHandler();
    await recordJob('email.send', mail('later'), { delayMs: 60_000 });
    await whenJobsIdle();
    expect(seen).toEqual([]);
    await db.current.sequelize.query(`UPDATE outbox SET available_at = now() - interval '1 second'`);
    await whenJobsIdle();
    expect(seen).toEqual(['later@outbox.test']);
  });

  it('relays each row once when two relays run at the same time', async () => {
    const rows = 150;
    await db.current.sequelize.query(
      `INSERT INTO outbox (type, payload) SELECT 'email.send', jsonb_build_object('n', g) FROM generate_series(1, ${rows}) g`,
    );
    const driver = recordingDriver();
    const first = new OutboxRelay(driver);
    const second = new OutboxRelay(driver);
    await Promise.all([first.drain(), second.drain(), first.drain(), second.drain()]);
    const ids = driver.queued.map((job) => job.jobId);
    expect(ids).toHaveLength(rows);
    expect(new Set(ids).size).toBe(rows);
    expect((await outboxRows()).every((row) => row.sent_at !== null)).toBe(true);
  });

  it('keeps the rows when the queue refuses them, and relays them once it takes them again', async () => {
    await recordJob('email.send', mail('queue-down'), { jobId: 'welcome-queue-down' });
    const driver = recordingDriver();
    driver.refuse = true;
    const relay = new OutboxRelay(driver);
    await expect(relay.drain()).rejects.toThrow('queue unreachable');
    const [waiting] = await outboxRows();
    expect(waiting.sent_at).toBeNull();
    expect(waiting.attempts).toBe(1);

    driver.refuse = false;
    await relay.drain();
    expect(driver.queued).toEqual([{ type: 'email.send', jobId: 'welcome-queue-down' }]);
    expect((await outboxRows())[0].sent_at).not.toBeNull();
  });
});
