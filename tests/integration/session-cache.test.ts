import { Client } from 'pg';
import request from 'supertest';
import { useTestApp } from '../support/app';
import { signedInUser } from '../support/auth';

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
  const listening = async () =>
    Number((await sql.query(`SELECT count(*) FROM pg_stat_activity WHERE application_name = 'marketplace-listener' AND datname = current_database()`)).rows[0].count) > 0;

  /** The first moment `check` holds, polled every 5 ms; the milliseconds it took. */
  async function within(ms: number, check: () => Promise<boolean>): Promise<number> {
    const started = Date.now();
    while (!(await check())) {
      if (Date.now() - started > ms) throw new Error(`not within ${ms} ms`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    return Date.now() - started;
  }

  it('answers from the cache within its second, which a change made behind the triggers shows', async () => {
    const user = await signedInUser(ctx.app);
    expect(await adminStatus(user.bearer)).toBe(403);
    await within(5_000, listening);
    expect(await adminStatus(user.bearer)).toBe(403);
    // The same change with the announcement switched off: the cached check still says customer…
    await sql.query('ALTER TABLE users DISABLE TRIGGER users_auth_changed');
    try {
      await sql.query(`UPDATE users SET role = 'admin' WHERE id = $1`, [user.user.id]);
    } finally {
      await sql.query('ALTER TABLE users ENABLE TRIGGER users_auth_changed');
    }
    expect(await adminStatus(user.bearer)).toBe(403);
    // …until the entry is a second old.
    await within(2_000, async () => (await adminStatus(user.bearer)) === 200);
  });

  it('drops a user’s entries when another process changes the role or revokes the session', async () => {
    const user = await signedInUser(ctx.app);
    await within(5_000, listening);
    expect(await adminStatus(user.bearer)).toBe(403);
    await sql.query(`UPDATE users SET role = 'admin' WHERE id = $1`, [user.user.id]);
    // A notification's way from the commit to this process: milliseconds, well under the cache's second.
    expect(await within(500, async () => (await adminStatus(user.bearer)) === 200)).toBeLessThan(500);
    await sql.query(`UPDATE user_sessions SET revoked_at = now(), revoked_reason = 'logout' WHERE user_id = $1`, [user.user.id]);
    expect(await within(500, async () => (await adminStatus(user.bearer)) === 401)).toBeLessThan(500);
    const refused = await request(ctx.app).get('/api/auth/me').set('Authorization', user.bearer);
    expect([refused.status, refused.body.error.code]).toEqual([401, 'TOKEN_REVOKED']);
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
    expect(await adminStatus(user.bearer)).toBe(403);
    await sql.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'marketplace-listener' AND datname = current_database()`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    // Missed by the listener (gone): the next check reads the database, or a cache emptied when listening resumed.
    await sql.query(`UPDATE users SET role = 'admin' WHERE id = $1`, [user.user.id]);
    expect(await adminStatus(user.bearer)).toBe(200);
    await within(5_000, listening);
    await sql.query(`UPDATE users SET role = 'customer' WHERE id = $1`, [user.user.id]);
    await within(500, async () => (await adminStatus(user.bearer)) === 403);
  });
});
