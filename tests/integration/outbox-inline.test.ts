import { QueryTypes } from 'sequelize';
import type { JobDriver } from '../../src/platform/jobs/drivers';
import { createInlineDriver } from '../../src/platform/jobs/inline.driver';
import { handlers, recordJob } from '../../src/jobs';
import { OUTBOX_LEASE_MS, OutboxRelay } from '../../src/platform/jobs/outbox';
import { jobOptions, type JobContext, type JobHandlers, type JobPayloads } from '../../src/platform/jobs/types';
import { useTestDatabase } from '../support/database';

// The outbox with the in-process job driver (no Redis): a row stays until its job has run.

const db = useTestDatabase();

type Mail = JobPayloads['email.send'];
type MailHandler = (payload: Mail, job: JobContext) => Promise<void>;

function mail(marker: string): Mail {
  return { template: 'welcome', to: `${marker}@outbox-inline.test`, data: { marker } };
}

/** The real table with mail replaced: these tests are about the outbox, not what jobs do. */
function mailOnly(handler: MailHandler): JobHandlers {
  return { ...handlers, 'email.send': handler };
}

interface Row {
  id: string;
  sent_at: Date | null;
  dead_at: Date | null;
  locked_until: Date | null;
  failed_runs: number;
  last_error: string | null;
  payload: Record<string, unknown>;
  leased: boolean;
}

async function rows(): Promise<Row[]> {
  return db.current.sequelize.query<Row>(
    `SELECT id, sent_at, dead_at, locked_until, failed_runs, last_error, payload, locked_until > now() AS leased FROM outbox ORDER BY created_at, id`,
    { type: QueryTypes.SELECT },
  );
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

const open: Array<{ driver: JobDriver; relay: OutboxRelay }> = [];

function start(handler: MailHandler): { driver: JobDriver; relay: OutboxRelay } {
  const driver = createInlineDriver(mailOnly(handler), { backoffScale: 0.001 });
  const relay = new OutboxRelay(driver);
  open.push({ driver, relay });
  return { driver, relay };
}

/** Relays, waits for the jobs, writes what they did: the outbox as whenJobsIdle leaves it. */
async function settle(driver: JobDriver, relay: OutboxRelay): Promise<void> {
  await relay.drain();
  await driver.whenIdle();
  await relay.flush();
}

afterEach(async () => {
  for (const { driver, relay } of open.splice(0)) {
    await relay.stop();
    await driver.close();
    await relay.flush();
  }
  await db.current.sequelize.query('DELETE FROM outbox');
});

describe('outbox with the in-process job driver', () => {
  it('keeps a row unsent, leased, while its job waits or runs in memory, and marks it sent once the job has run', async () => {
    const release = deferred();
    const started = deferred();
    const seen: Array<{ to: string; id: string }> = [];
    const { driver, relay } = start(async (payload, job) => {
      started.resolve();
      await release.promise;
      seen.push({ to: payload.to, id: job.id });
    });
    await driver.startWorkers();
    await recordJob('email.send', mail('held'));
    await relay.drain();
    await started.promise;

    const [running] = await rows();
    expect(running).toMatchObject({ sent_at: null, dead_at: null, leased: true });
    expect(running.payload).toEqual(mail('held'));
    // A second relay (another process) does not take a row that is held.
    const other = start(async () => undefined);
    await other.driver.startWorkers();
    await settle(other.driver, other.relay);

    release.resolve();
    await settle(driver, relay);
    const [done] = await rows();
    expect(done).toMatchObject({ dead_at: null, locked_until: null, failed_runs: 0, payload: {} });
    expect(done.sent_at).not.toBeNull();
    // The handler is told the row id: what it names an effect that must happen once by.
    expect(seen).toEqual([{ to: 'held@outbox-inline.test', id: running.id }]);
  });

  it('records each failed run, and marks the row dead, keeping its payload, once the job has failed every attempt', async () => {
    const { attempts } = jobOptions['email.send'];
    let calls = 0;
    const { driver, relay } = start(async () => {
      calls += 1;
      throw new Error(`smtp refused (${calls})`);
    });
    await driver.startWorkers();
    await recordJob('email.send', mail('doomed'));
    await settle(driver, relay);

    expect(calls).toBe(attempts);
    const [dead] = await rows();
    expect(dead).toMatchObject({ sent_at: null, locked_until: null, failed_runs: attempts, last_error: `smtp refused (${attempts})` });
    expect(dead.dead_at).not.toBeNull();
    expect(dead.payload).toEqual(mail('doomed'));
    // Dead is final: no relay takes it again.
    await settle(driver, relay);
    expect(calls).toBe(attempts);
  });

  it('runs again, at once and counting the runs that failed before, a row whose process died holding it', async () => {
    const { attempts } = jobOptions['email.send'];
    await recordJob('email.send', mail('orphaned'));
    await recordJob('email.send', mail('still-held'));
    // The first was held by a process that died after attempts - 1 failed runs: its lease ran out.
    // The second is held by a live process: its lease is current.
    await db.current.sequelize.query(
      `UPDATE outbox SET failed_runs = ${attempts - 1}, locked_until = now() - interval '1 second' WHERE payload->>'to' = 'orphaned@outbox-inline.test'`,
    );
    await db.current.sequelize.query(
      `UPDATE outbox SET locked_until = now() + make_interval(secs => ${OUTBOX_LEASE_MS / 1000}) WHERE payload->>'to' = 'still-held@outbox-inline.test'`,
    );
    const seen: string[] = [];
    const { driver, relay } = start(async (payload) => {
      seen.push(payload.to);
      throw new Error('still failing');
    });
    await driver.startWorkers();
    await settle(driver, relay);

    // One run was left of its attempts: it ran once, then it was dead-lettered.
    expect(seen).toEqual(['orphaned@outbox-inline.test']);
    const [orphaned, held] = await rows();
    expect(orphaned).toMatchObject({ failed_runs: attempts, last_error: 'still failing' });
    expect(orphaned.dead_at).not.toBeNull();
    expect(held).toMatchObject({ sent_at: null, dead_at: null, failed_runs: 0, leased: true });
  });

  it('hands back to the outbox, due at once, the jobs still waiting in memory when the driver closes', async () => {
    const seen: string[] = [];
    const { driver, relay } = start(async (payload) => void seen.push(payload.to));
    // Workers not started: the job waits in memory.
    await recordJob('email.send', mail('waiting'));
    await relay.drain();
    expect((await rows())[0]).toMatchObject({ sent_at: null, leased: true });

    await relay.stop();
    await driver.close();
    await relay.flush();
    expect(seen).toEqual([]);
    expect((await rows())[0]).toMatchObject({ sent_at: null, dead_at: null, locked_until: null });

    const next = start(async (payload) => void seen.push(payload.to));
    await next.driver.startWorkers();
    await settle(next.driver, next.relay);
    expect(seen).toEqual(['waiting@outbox-inline.test']);
    expect((await rows())[0].sent_at).not.toBeNull();
  });

  it('marks sent, without running it again, a row whose job id is already kept in this process', async () => {
    const seen: string[] = [];
    const { driver, relay } = start(async (payload) => void seen.push(payload.to));
    await driver.startWorkers();
    await recordJob('email.send', mail('first'), { jobId: 'one-alert-per-thing' });
    await settle(driver, relay);
    await recordJob('email.send', mail('second'), { jobId: 'one-alert-per-thing' });
    await settle(driver, relay);
    expect(seen).toEqual(['first@outbox-inline.test']);
    expect((await rows()).every((row) => row.sent_at !== null)).toBe(true);
  });
});
