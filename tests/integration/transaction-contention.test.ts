import express from 'express';
import { DatabaseError, type Transaction } from 'sequelize';
import request from 'supertest';
import { queryRows } from '../../src/platform/db/query';
import { inTransaction, RetryTransactionError, RolledBackAtCommitError, TransactionContentionError } from '../../src/platform/db/transaction';
import { errorHandler } from '../../src/platform/http/error-handler.middleware';
import { requestId } from '../../src/platform/http/request-context.middleware';
import { useTestDatabase } from '../support/database';

/** PostgreSQL's own serialization failure, on every try. */
const CONFLICT = `DO $$ BEGIN RAISE EXCEPTION 'conflict' USING ERRCODE = 'serialization_failure'; END $$`;

describe('a transaction aborted on every try', () => {
  const db = useTestDatabase();

  it('is a TransactionContentionError from the db layer, which knows nothing of HTTP', async () => {
    let tries = 0;
    const outcome = inTransaction(
      async (transaction) => {
        tries += 1;
        await db.current.sequelize.query(CONFLICT, { transaction });
      },
      { attempts: 3, name: 'probe' },
    );
    await expect(outcome).rejects.toBeInstanceOf(TransactionContentionError);
    await expect(outcome).rejects.toMatchObject({ unit: 'probe', attempts: 3 });
    expect(tries).toBe(3);
  });

  it('is answered 503 TRY_AGAIN with Retry-After: 1 by the error handler', async () => {
    const app = express()
      .use(requestId)
      .get('/busy', async () => {
        await inTransaction((transaction) => db.current.sequelize.query(CONFLICT, { transaction }), { attempts: 2 });
      })
      .use(errorHandler);
    const res = await request(app).get('/busy');
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('1');
    expect(res.body).toEqual({
      success: false,
      error: { code: 'TRY_AGAIN', message: 'The server is busy with conflicting requests; please try again', requestId: res.headers['x-request-id'] },
    });
  });
});

describe('the ends of a transaction', () => {
  const db = useTestDatabase();

  beforeAll(async () => {
    // A constraint checked at COMMIT: the way to make a COMMIT fail on purpose.
    await db.current.sequelize.query(`CREATE TABLE commit_probe (id int, CONSTRAINT commit_probe_id_key UNIQUE (id) DEFERRABLE INITIALLY DEFERRED)`);
  });

  async function backendAlive(pid: number): Promise<boolean> {
    const rows = await queryRows<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE pid = $pid', { pid });
    return rows.length > 0;
  }

  it('commits the work and runs the afterCommit hooks once COMMIT succeeded', async () => {
    const seen: string[] = [];
    const result = await inTransaction(async (transaction) => {
      await queryRows('INSERT INTO commit_probe (id) VALUES (1)', {}, transaction);
      transaction.afterCommit(() => {
        seen.push('hook');
      });
      return 'done';
    });
    expect(result).toBe('done');
    expect(seen).toEqual(['hook']);
    expect(await queryRows('SELECT id FROM commit_probe', {})).toEqual([{ id: 1 }]);
  });

  it('answers a failed COMMIT with its SQLSTATE, runs no afterCommit hook, and closes the connection instead of pooling it', async () => {
    await queryRows('TRUNCATE commit_probe', {});
    let hooks = 0;
    let pid = 0;
    const outcome = inTransaction(async (transaction) => {
      [{ pid }] = await queryRows<{ pid: number }>('SELECT pg_backend_pid() AS pid', {}, transaction);
      await queryRows('INSERT INTO commit_probe (id) VALUES (2), (2)', {}, transaction);
      transaction.afterCommit(() => {
        hooks += 1;
      });
    });
    await expect(outcome).rejects.toBeInstanceOf(DatabaseError);
    await expect(outcome).rejects.toMatchObject({ original: { code: '23505' }, sql: 'COMMIT' });
    expect(hooks).toBe(0);
    expect(await queryRows('SELECT id FROM commit_probe', {})).toEqual([]);
    // The connection in no known state was closed: its backend goes away.
    const deadline = Date.now() + 5_000;
    while ((await backendAlive(pid)) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await backendAlive(pid)).toBe(false);
  });

  it('rolls back the work that threw and keeps the connection for the next', async () => {
    await queryRows('TRUNCATE commit_probe', {});
    let pid = 0;
    const outcome = inTransaction(async (transaction) => {
      [{ pid }] = await queryRows<{ pid: number }>('SELECT pg_backend_pid() AS pid', {}, transaction);
      await queryRows('INSERT INTO commit_probe (id) VALUES (3)', {}, transaction);
      throw new Error('changed my mind');
    });
    await expect(outcome).rejects.toThrow('changed my mind');
    // The pool hands out its most recently returned connection first: the same backend, out of any transaction.
    const [after] = await queryRows<{ pid: number; ids: number }>('SELECT pg_backend_pid() AS pid, (SELECT count(*)::int FROM commit_probe) AS ids', {});
    expect(after).toEqual({ pid, ids: 0 });
  });

  it('answers the committed work even when an afterCommit hook throws, and runs the hooks after it', async () => {
    await queryRows('TRUNCATE commit_probe', {});
    let tries = 0;
    let later = 0;
    const result = await inTransaction(async (transaction) => {
      tries += 1;
      await queryRows('INSERT INTO commit_probe (id) VALUES (7)', {}, transaction);
      transaction.afterCommit(() => {
        throw new RetryTransactionError('a hook that fails as if the work should run again');
      });
      transaction.afterCommit(() => {
        later += 1;
      });
      return 'kept';
    });
    expect(result).toBe('kept');
    expect(tries).toBe(1);
    expect(later).toBe(1);
    expect(await queryRows('SELECT id FROM commit_probe', {})).toEqual([{ id: 7 }]);
  });

  it('refuses a work that ends its own transaction, and rolls it back', async () => {
    await queryRows('TRUNCATE commit_probe', {});
    const outcome = inTransaction(async (transaction) => {
      await queryRows('INSERT INTO commit_probe (id) VALUES (5)', {}, transaction);
      await transaction.commit();
    });
    await expect(outcome).rejects.toThrow('A unit of work does not end its transaction');
    expect(await queryRows('SELECT id FROM commit_probe', {})).toEqual([]);
  });

  it('answers a COMMIT that PostgreSQL turned into a ROLLBACK (a failed statement the work went past) as an error, with no afterCommit hook', async () => {
    await queryRows('TRUNCATE commit_probe', {});
    let hooks = 0;
    const outcome = inTransaction(async (transaction) => {
      await queryRows('INSERT INTO commit_probe (id) VALUES (6)', {}, transaction);
      await queryRows('SELECT 1 / 0 AS x', {}, transaction).catch(() => undefined);
      transaction.afterCommit(() => {
        hooks += 1;
      });
      return 'placed';
    });
    await expect(outcome).rejects.toBeInstanceOf(RolledBackAtCommitError);
    expect(hooks).toBe(0);
    expect(await queryRows('SELECT id FROM commit_probe', {})).toEqual([]);
  });

  it('runs the afterCommit hooks when the connection fails before COMMIT is answered (it may have committed), and still fails', async () => {
    await queryRows('TRUNCATE commit_probe', {});
    let hooks = 0;
    const outcome = inTransaction(async (transaction) => {
      const [{ pid }] = await queryRows<{ pid: number }>('SELECT pg_backend_pid() AS pid', {}, transaction);
      transaction.afterCommit(() => {
        hooks += 1;
      });
      // The connection dies between the work's last statement and its COMMIT.
      await queryRows('SELECT pg_terminate_backend($pid)', { pid });
      while ((await backendAlive(pid)) === true) await new Promise((resolve) => setTimeout(resolve, 10));
    });
    await expect(outcome).rejects.toBeInstanceOf(DatabaseError);
    expect(hooks).toBe(1);
    // The pool goes on with other connections.
    expect(await queryRows('SELECT 1 AS one', {})).toEqual([{ one: 1 }]);
  });

  it('refuses a statement sent in a transaction that has ended, whose connection may serve another by then', async () => {
    let ended: Transaction | undefined;
    await inTransaction(async (transaction) => {
      ended = transaction;
    });
    await expect(queryRows('INSERT INTO commit_probe (id) VALUES (4)', {}, ended)).rejects.toThrow('The transaction has ended (commit)');
    expect(await queryRows('SELECT id FROM commit_probe WHERE id = 4', {})).toEqual([]);
  });
});
