import { LOCK_CART } from '../../src/modules/order/checkout.service';
import { PREPARED_PER_CONNECTION, queryRows, runPrepared } from '../../src/platform/db/query';
import type { PgConnection } from '../../src/platform/db';
import { inTransaction } from '../../src/platform/db/transaction';
import { useTestDatabase } from '../support/database';

/**
 * The gateway runs statements as named prepared statements; a schema change that alters a
 * prepared statement's result columns (a migration while the system runs) must not break it.
 */
describe('connections and prepared statements of the SQL gateway', () => {
  const db = useTestDatabase();

  it('run on connections with JIT compilation off, which costs our short statements more than it saves', async () => {
    // Every connection of the pool, and one made later.
    const settings = await Promise.all(Array.from({ length: 5 }, () => queryRows<{ jit: string }>('SHOW jit', {})));
    expect(settings.map(([row]) => row.jit)).toEqual(Array.from({ length: 5 }, () => 'off'));
  });

  it('keep answering after a migration changes the columns they return, alone and in a transaction', async () => {
    await queryRows('CREATE TABLE prepared_probe (id int PRIMARY KEY, label text)', {});
    await queryRows(`INSERT INTO prepared_probe VALUES (1, 'one')`, {});
    const read = () => queryRows<Record<string, unknown>>('SELECT * FROM prepared_probe WHERE id = $id', { id: 1 });
    // Prepared on every connection of the pool, and run past PostgreSQL's switch to a generic plan.
    for (let round = 0; round < 6; round += 1) await Promise.all(Array.from({ length: 5 }, read));
    await db.current.sequelize.query(`ALTER TABLE prepared_probe ADD COLUMN note text DEFAULT 'added'`);
    const after = await Promise.all(Array.from({ length: 5 }, read));
    expect(after).toEqual(Array.from({ length: 5 }, () => [{ id: 1, label: 'one', note: 'added' }]));

    const inside = () => queryRows<Record<string, unknown>>('SELECT * FROM prepared_probe WHERE id = $id AND label IS NOT NULL', { id: 1 });
    for (let round = 0; round < 6; round += 1) await Promise.all(Array.from({ length: 5 }, () => inTransaction((transaction) => queryRows('SELECT * FROM prepared_probe WHERE id = $id AND label IS NOT NULL', { id: 1 }, transaction))));
    await db.current.sequelize.query('ALTER TABLE prepared_probe DROP COLUMN note');
    const rows = await Promise.all(Array.from({ length: 5 }, () => inTransaction((transaction) => queryRows('SELECT * FROM prepared_probe WHERE id = $id AND label IS NOT NULL', { id: 1 }, transaction))));
    expect(rows).toEqual(Array.from({ length: 5 }, () => [{ id: 1, label: 'one' }]));
    expect(await inside()).toEqual([{ id: 1, label: 'one' }]);
  });
  it('keep at most PREPARED_PER_CONNECTION on a connection, the least recently used deallocated, and run again what was deallocated', async () => {
    const manager = db.current.sequelize.connectionManager;
    const connection = (await manager.getConnection({ type: 'write' })) as unknown as PgConnection;
    try {
      // Texts as many as a client could cause by varying a statement (filters, sorts, page sizes).
      const text = (n: number) => `SELECT ${n}::int AS n, $1::int AS v`;
      const run = async (n: number, inTransaction = false) => (await runPrepared(connection, text(n), [n], inTransaction)) as Array<{ n: number; v: number }>;
      const count = async () =>
        Number(((await connection.query({ text: 'SELECT count(*)::int AS c FROM pg_prepared_statements', values: [] })).rows[0] as { c: number }).c);
      for (let n = 0; n < PREPARED_PER_CONNECTION; n += 1) await run(n);
      expect(await count()).toBe(PREPARED_PER_CONNECTION);
      // Used again lately: kept when room is made.
      await run(0);
      for (let n = PREPARED_PER_CONNECTION; n < PREPARED_PER_CONNECTION + 10; n += 1) await run(n);
      expect(await count()).toBe(PREPARED_PER_CONNECTION);
      const kept = (await connection.query({ text: 'SELECT statement FROM pg_prepared_statements', values: [] })).rows as Array<{ statement: string }>;
      const statements = kept.map((row) => row.statement);
      expect(statements).toContain(text(0));
      expect(statements).not.toContain(text(1));
      // A text whose statement was deallocated is prepared again, not bound to a name the server forgot.
      expect(await run(1)).toEqual([{ n: 1, v: 1 }]);
      expect(await count()).toBe(PREPARED_PER_CONNECTION);
      // In a transaction nothing is deallocated: a new text runs unnamed.
      expect(await run(500, true)).toEqual([{ n: 500, v: 500 }]);
      expect(await count()).toBe(PREPARED_PER_CONNECTION);
    } finally {
      manager.releaseConnection(connection as never);
    }
  });
});

describe("the checkout's cart lock", () => {
  useTestDatabase();

  it('has the rest of its transaction run on generic plans, and the setting ends with the transaction', async () => {
    const [user] = await queryRows<{ id: string }>(
      `INSERT INTO users (email, password, name) VALUES ('plans@example.com', 'not-a-hash', 'Plans') RETURNING id`,
      {},
    );
    await queryRows('INSERT INTO carts (user_id) VALUES ($userId)', { userId: user.id });
    const inside = await inTransaction(async (transaction) => {
      await queryRows(LOCK_CART, { userId: user.id }, transaction);
      return queryRows<{ plan_cache_mode: string }>('SHOW plan_cache_mode', {}, transaction);
    });
    expect(inside).toEqual([{ plan_cache_mode: 'force_generic_plan' }]);
    // Every pooled connection, the one the transaction used among them, is back to PostgreSQL's default.
    const after = await Promise.all(Array.from({ length: 10 }, () => queryRows<{ plan_cache_mode: string }>('SHOW plan_cache_mode', {})));
    expect(after.map(([row]) => row.plan_cache_mode)).toEqual(Array.from({ length: 10 }, () => 'auto'));
  });
});
