import express from 'express';
import request from 'supertest';
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
