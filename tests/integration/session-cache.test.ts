import { Client } from 'pg';
import request from 'supertest';
import { useTestApp } from '../support/app';
import { signedInUser } from '../support/auth';
import { sessionCacheLive } from '../../src/modules/accounts/session-cache';

/**
 * A session's check is kept for a second per process, and dropped when the database announces a
 * change to it (migration 0016's triggers): a revocation or a role change made by anyone,
 * another process or SQL by hand, counts as soon as it commits.
 */
describe('the cached session check', () => {
  const ctx = useTestApp();
  let sql: Client;

  beforeAll(async () => {
    sql = new Client({ connectionString: ctx.db.url });
    // The file's database is dropped (its connections ended) by useTestApp's own afterAll.
    sql.on('error', () => undefined);
    await sql.connect();
  });
  afterAll(() => sql.end());

  const adminStatus = async (bearer: string) => (await request(ctx.app).get('/api/admin/users').set('Authorization', bearer)).status;
  /** This process listens (its LISTEN taken, not merely its connection made) and serves from the cache. */
  const listening = async () => sessionCacheLive();

  /** Waits until `check` holds, polled every 5 ms (on the monotonic clock: some tests stop Date.now). */
  async function within(ms: number, check: () => Promise<boolean>): Promise<void> {
    const started = performance.now();
    while (!(await check())) {
      if (performance.now() - started > ms) throw new Error(`not within ${ms} ms`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  /**
   * Stops the cache's clock (Date.now) while `work` runs: no entry ages out meanwhile, so an
   * answer that changes was changed by a notification or by the listener's loss, not by the
   * cache's second running out on a slow machine.
   */
  async function withTimeStopped(work: () => Promise<void>): Promise<void> {
    const stopped = jest.spyOn(Date, 'now').mockReturnValue(Date.now());
    try {
      await work();
    } finally {
      stopped.mockRestore();
    }
  }

  it('answers from the cache within its second, which a change made behind the triggers shows', async () => {
    const user = await signedInUser(ctx.app);
    expect(await adminStatus(user.bearer)).toBe(403);
    await within(5_000, listening);
    await withTimeStopped(async () => {
      expect(await adminStatus(user.bearer)).toBe(403);
      // The same change with the announcement switched off: the cached check still says customer…
      await sql.query('ALTER TABLE users DISABLE TRIGGER users_auth_changed');
      try {
        await sql.query(`UPDATE users SET role = 'admin' WHERE id = $1`, [user.user.id]);
      } finally {
        await sql.query('ALTER TABLE users ENABLE TRIGGER users_auth_changed');
      }
      expect(await adminStatus(user.bearer)).toBe(403);
    });
    // …until the entry is a second old.
    await within(5_000, async () => (await adminStatus(user.bearer)) === 200);
  });

  it('drops a user’s entries when another process changes the role or revokes the session', async () => {
    const user = await signedInUser(ctx.app);
    await within(5_000, listening);
    // With the cache's clock stopped, its entry never ages out: only the notification can drop it.
    await withTimeStopped(async () => {
      expect(await adminStatus(user.bearer)).toBe(403);
      await sql.query(`UPDATE users SET role = 'admin' WHERE id = $1`, [user.user.id]);
      await within(5_000, async () => (await adminStatus(user.bearer)) === 200);
      await sql.query(`UPDATE user_sessions SET revoked_at = now(), revoked_reason = 'logout' WHERE user_id = $1`, [user.user.id]);
      await within(5_000, async () => (await adminStatus(user.bearer)) === 401);
      const refused = await request(ctx.app).get('/api/auth/me').set('Authorization', user.bearer);
      expect([refused.status, refused.body.error.code]).toEqual([401, 'TOKEN_REVOKED']);
    });
  });

  it('refuses a token at once after its own process signed it out', async () => {
    const user = await signedInUser(ctx.app);
    await within(5_000, listening);
    await request(ctx.app).get('/api/auth/me').set('Authorization', user.bearer).expect(200);
    await request(ctx.app).post('/api/auth/logout').set('Authorization', user.bearer).send({ refreshToken: user.refreshToken }).expect(200);
    const refused = await request(ctx.app).get('/api/auth/me').set('Authorization', user.bearer);
    expect([refused.status, refused.body.error.code]).toEqual([401, 'TOKEN_REVOKED']);
  });

  it('serves nothing from the cache while not listening, and listens again by itself', async () => {
    const user = await signedInUser(ctx.app);
    await within(5_000, listening);
    await withTimeStopped(async () => {
      expect(await adminStatus(user.bearer)).toBe(403);
      await sql.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'marketplace-listener' AND datname = current_database()`);
      await within(5_000, async () => !sessionCacheLive());
      // Missed by the listener (gone): the next check reads the database, or a cache emptied when
      // listening resumed; the entry of a second ago, which time stopped keeps fresh, is not served.
      await sql.query(`UPDATE users SET role = 'admin' WHERE id = $1`, [user.user.id]);
      expect(await adminStatus(user.bearer)).toBe(200);
      await within(5_000, listening);
      await sql.query(`UPDATE users SET role = 'customer' WHERE id = $1`, [user.user.id]);
      await within(5_000, async () => (await adminStatus(user.bearer)) === 403);
    });
  });
});
