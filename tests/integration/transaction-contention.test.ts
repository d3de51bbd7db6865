import express from 'express';
import { DatabaseError, type Transaction } from 'sequelize';
import request from 'supertest';
import { queryRows } from '../../src/platform/db/query';
import { inTransaction, TransactionContentionError } from '../../src/platform/db/transaction';
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
    const outcome = inTransaction(async (transaction) => {
      await queryRows('INSERT INTO commit_probe (id) VALUES (3)', {}, transaction);
      throw new Error('changed my mind');
    });
    await expect(outcome).rejects.toThrow('changed my mind');
    expect(await queryRows('SELECT id FROM commit_probe', {})).toEqual([]);
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
