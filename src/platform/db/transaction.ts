import type { Transaction } from 'sequelize';
import { logger } from '../utils/logger';
import { getSequelize } from './index';

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
  isolationLevel?: Transaction.ISOLATION_LEVELS;
  /** Names the unit of work in logs. */
  name?: string;
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
      return await getSequelize().transaction({ isolationLevel: options.isolationLevel }, work);
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
