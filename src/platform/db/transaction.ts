import { Transaction } from 'sequelize';
import { logger } from '../utils/logger';
import { asDatabaseError, getSequelize, logStatement, type PgConnection } from './index';

/** serialization_failure and deadlock_detected: PostgreSQL undid the work, and running it again is safe. */
const RETRYABLE_SQLSTATES = new Set(['40001', '40P01']);

const DEFAULT_ATTEMPTS = 8;
const BASE_DELAY_MS = 5;

/**
 * Thrown by a unit of work that found the data changed under it (a price that moved between
 * reading the cart and taking the stock): the whole transaction is run again on fresh data.
 */
export class RetryTransactionError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'RetryTransactionError';
  }
}

/**
 * Thrown when PostgreSQL aborted every try of a unit of work for conflicting with concurrent ones:
 * nothing was changed, and the same request later is likely to go through. The error handler
 * answers it as 503 TRY_AGAIN; a job lets its queue retry it.
 */
export class TransactionContentionError extends Error {
  constructor(
    readonly unit: string | undefined,
    readonly attempts: number,
    options?: { cause?: unknown },
  ) {
    super(`${unit ?? 'a transaction'} was aborted by conflicting work on each of ${attempts} tries`, options);
    this.name = 'TransactionContentionError';
  }
}

function sqlStateOf(error: unknown): string | undefined {
  const candidate = error as { original?: { code?: unknown }; parent?: { code?: unknown }; code?: unknown } | undefined;
  const code = candidate?.original?.code ?? candidate?.parent?.code ?? candidate?.code;
  return typeof code === 'string' ? code : undefined;
}

export function isRetryableTransactionError(error: unknown): boolean {
  if (error instanceof RetryTransactionError) return true;
  const state = sqlStateOf(error);
  return state !== undefined && RETRYABLE_SQLSTATES.has(state);
}

export interface TransactionOptions {
  /** Total tries, the first included. */
  attempts?: number;
  /** Names the unit of work in logs. */
  name?: string;
}

/** The Sequelize transaction's fields this module sets and reads (Sequelize's own, not in its typings). */
interface TransactionState {
  id: string;
  connection: PgConnection;
  finished?: 'commit' | 'rollback';
  _afterCommitHooks: Array<(transaction: Transaction) => unknown>;
  commit: () => Promise<void>;
  rollback: () => Promise<void>;
}

type Database = ReturnType<typeof getSequelize>;
type ConnectionManager = Database['connectionManager'];

/** PostgreSQL answered a COMMIT with ROLLBACK: a statement of the transaction failed and the work went on. Nothing was written. */
export class RolledBackAtCommitError extends Error {
  constructor() {
    super('The transaction was rolled back at COMMIT: one of its statements had failed');
    this.name = 'RolledBackAtCommitError';
  }
}

/** An error PostgreSQL reported (it has a SQLSTATE): the server answered, so the statement's outcome is known. */
function reportedByServer(error: unknown): boolean {
  return sqlStateOf(error)?.length === 5;
}

function refuseOwnEnd(): Promise<void> {
  return Promise.reject(new Error('A unit of work does not end its transaction: inTransaction commits it, or rolls it back when the work throws'));
}

/**
 * One try of a unit of work: a Sequelize transaction (models and queryRows use it as any other),
 * begun, committed and rolled back by plain statements on its connection. Sequelize's own
 * `transaction()` sends those through its general query path (option merging, its retry wrapper),
 * which cost more of the API's CPU than the statements themselves (about 0.13 ms a transaction).
 * The work cannot end the transaction itself (its commit and rollback refuse): only this does, once.
 * The afterCommit hooks run once COMMIT has succeeded, and also when its outcome is unknown (the
 * connection failed before PostgreSQL answered), since the change may be committed and every hook
 * clears a cache or wakes a relay, harmless when nothing changed; not when PostgreSQL refused the
 * COMMIT (Sequelize runs them then too). A connection whose COMMIT or ROLLBACK failed is in no
 * known state and is closed, not pooled again.
 */
async function runOnce<T>(work: (transaction: Transaction) => Promise<T>): Promise<T> {
  const sequelize = getSequelize();
  const manager = sequelize.connectionManager;
  const transaction = new Transaction(sequelize, {});
  const state = transaction as unknown as TransactionState;
  state.commit = refuseOwnEnd;
  state.rollback = refuseOwnEnd;
  const connection = (await manager.getConnection({ type: 'write' })) as unknown as PgConnection;
  connection.uuid = state.id;
  state.connection = connection;
  const control = (text: string) => controlStatement(sequelize, connection, state, text);
  let result: T;
  try {
    await control('START TRANSACTION');
    result = await work(transaction);
  } catch (error) {
    state.finished = 'rollback';
    try {
      await control('ROLLBACK');
      release(manager, connection);
    } catch (rollbackError) {
      logger.warn('rollback failed; its connection is closed', { transaction: state.id, error: (rollbackError as Error).message });
      await destroy(manager, connection);
    }
    throw error;
  }
  state.finished = 'commit';
  let answer: { command?: string };
  try {
    answer = await control('COMMIT');
  } catch (error) {
    logger.warn('commit failed; its connection is closed', { transaction: state.id, error: (error as Error).message });
    await destroy(manager, connection);
    if (!reportedByServer(error)) await runHooks(state, transaction);
    throw error;
  }
  release(manager, connection);
  // An aborted transaction (a failed statement the work went past) answers COMMIT with ROLLBACK.
  if (answer.command !== 'COMMIT') throw new RolledBackAtCommitError();
  await runHooks(state, transaction);
  return result;
}

/** A transaction-control statement on the transaction's connection, its failure as Sequelize's DatabaseError. */
async function controlStatement(sequelize: Database, connection: PgConnection, state: TransactionState, text: string): Promise<{ command?: string }> {
  logStatement(sequelize, state.id, text);
  try {
    return await connection.query(text);
  } catch (error) {
    throw asDatabaseError(error, text, []);
  }
}

/**
 * The afterCommit hooks, each once. One that throws is logged, not thrown: the work is committed
 * by then, and an error would tell the client it was not (and a retryable one would run it again).
 */
async function runHooks(state: TransactionState, transaction: Transaction): Promise<void> {
  for (const hook of state._afterCommitHooks) {
    try {
      await hook(transaction);
    } catch (error) {
      logger.error('an afterCommit hook failed', { transaction: state.id, error: (error as Error).message });
    }
  }
}

function release(manager: ConnectionManager, connection: PgConnection): void {
  connection.uuid = undefined;
  manager.releaseConnection(connection as never);
}

async function destroy(manager: ConnectionManager, connection: PgConnection): Promise<void> {
  connection.uuid = undefined;
  try {
    await manager.destroyConnection(connection as never);
  } catch (error) {
    logger.warn('a connection in no known state could not be closed', { error: (error as Error).message });
  }
}

/**
 * Runs `work` in one transaction, and again (a bounded number of times, with a short jittered
 * wait) when PostgreSQL aborts it for a serialization failure or a deadlock, as PeerTube's
 * retryTransactionWrapper and Vendure's transaction wrapper do. `work` must have no effect
 * outside the transaction (side effects go to the outbox), since it may run more than once.
 * When every try was aborted the caller gets a TransactionContentionError, never the database's error.
 */
export async function inTransaction<T>(work: (transaction: Transaction) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
  const attempts = options.attempts ?? DEFAULT_ATTEMPTS;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await runOnce(work);
    } catch (error) {
      if (!isRetryableTransactionError(error)) throw error;
      if (attempt >= attempts) {
        logger.warn('transaction aborted on every try', { unit: options.name, attempts, error: (error as Error).message });
        throw new TransactionContentionError(options.name, attempts, { cause: error });
      }
      const delay = BASE_DELAY_MS * 2 ** (attempt - 1) * (0.5 + Math.random());
      logger.debug('transaction aborted, trying again', { unit: options.name, attempt, sqlState: sqlStateOf(error), delayMs: Math.round(delay) });
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

/** The transaction whose COMMIT makes a change durable: Sequelize runs a savepoint's afterCommit when it is released. */
export function outermost(transaction: Transaction): Transaction {
  let current = transaction as Transaction & { parent?: Transaction };
  while (current.parent) current = current.parent as Transaction & { parent?: Transaction };
  return current;
}
