import { createHash } from 'node:crypto';
import type { Transaction } from 'sequelize';
import { asDatabaseError, getSequelize, logStatement, type PgConnection } from './index';
import { RetryTransactionError } from './transaction';

/**
 * The services' SQL: statements with named `$binds`, run on a pooled connection of Sequelize (or
 * the connection of the transaction given) without its per-call SQL rewriting. The named binds
 * are turned into pg's positional ones once per distinct SQL text, and the values are sent apart
 * from the text as always. Rows are parsed as Sequelize's own raw queries parse them (the
 * connection carries Sequelize's type parsers).
 */

export interface Compiled {
  text: string;
  names: string[];
}

/**
 * Statements run as named prepared statements: each connection parses and plans a text once and
 * then only binds and executes it (PostgreSQL switches to a generic plan after five runs when it
 * costs no more than the custom ones), which saves the parse and plan of every call, most of a
 * short statement's time. Names are derived from the text, so a name always means one text. The
 * first MAX_PREPARED distinct texts are prepared (they come from a few builders; the bound holds
 * what each connection keeps prepared whatever builds them), later ones run unnamed.
 */
const prepared = new Map<string, string>();
const MAX_PREPARED = 1_000;
/** Texts whose prepared plan PostgreSQL refused after a schema change: they run unnamed from then on. */
const unprepared = new Set<string>();

function statementName(text: string): string | undefined {
  let name = prepared.get(text);
  if (name === undefined && prepared.size < MAX_PREPARED && !unprepared.has(text)) {
    name = `q${createHash('sha1').update(text).digest('base64url').slice(0, 24)}`;
    prepared.set(text, name);
  }
  return name;
}

/**
 * The rows of a statement run on `connection` as a named prepared statement (see above). One whose
 * plan a schema change made stale runs unnamed from then on: alone it simply runs again; in a
 * transaction (aborted by the failure) the whole unit does, by RetryTransactionError.
 */
export async function runPrepared(connection: PgConnection, text: string, values: unknown[], inTransaction: boolean): Promise<unknown[]> {
  const name = statementName(text);
  try {
    return (await connection.query({ name, text, values })).rows;
  } catch (error) {
    if (name === undefined || !isStalePlan(error)) throw error;
    prepared.delete(text);
    unprepared.add(text);
    if (inTransaction) throw new RetryTransactionError('a prepared statement went stale under a schema change');
    return (await connection.query({ text, values })).rows;
  }
}

/** A prepared statement whose result columns changed under it (a migration of a running system). */
function isStalePlan(error: unknown): boolean {
  const candidate = error as { code?: string; message?: string };
  return candidate.code === '0A000' && /cached plan must not change result type/.test(candidate.message ?? '');
}

const compiled = new Map<string, Compiled>();
const MAX_COMPILED = 500;

/** A statement with named `$binds` as pg's positional `$1…`, and the names in their order. */
export function toPositional(sql: string): Compiled {
  let entry = compiled.get(sql);
  if (!entry) {
    const names: string[] = [];
    const text = sql.replace(/\$([A-Za-z_][A-Za-z0-9_]*)/g, (_match, name: string) => {
      let index = names.indexOf(name);
      if (index === -1) index = names.push(name) - 1;
      return `$${index + 1}`;
    });
    entry = { text, names };
    // Statement texts come from a few builders, so this stays small; the bound keeps it so.
    if (compiled.size >= MAX_COMPILED) compiled.clear();
    compiled.set(sql, entry);
  }
  return entry;
}

/** The positional text of a statement and its values in order; a `$name` without a value in `bind` is an error. */
export function toStatement(sql: string, bind: Record<string, unknown>): { text: string; values: unknown[] } {
  const { text, names } = toPositional(sql);
  const values = names.map((name) => {
    if (!(name in bind)) throw new Error(`No value bound for $${name}`);
    return bind[name];
  });
  return { text, values };
}

/**
 * The rows of one statement of a service, with named `$binds` as Sequelize's `bind`: on the
 * transaction's connection when one is given (a unit of work), else alone on a pooled connection
 * of the primary (a single statement is atomic). Errors are Sequelize's DatabaseError (the
 * original pg error, with its SQLSTATE, as `original`), so the error handler and the transaction
 * retry read them as they read Sequelize's own.
 */
export async function queryRows<T>(sql: string, bind: Record<string, unknown>, transaction?: Transaction): Promise<T[]> {
  const { text, values } = toStatement(sql, bind);
  const sequelize = getSequelize();
  logStatement(sequelize, (transaction as { id?: string } | undefined)?.id, text);
  const manager = sequelize.connectionManager;
  const held = transaction as unknown as { connection?: PgConnection; finished?: string } | undefined;
  const own = held?.connection;
  if (transaction && !own) throw new Error('The transaction has no connection yet');
  // Its connection may already serve another transaction: a statement after the end must not run there.
  if (held?.finished) throw new Error(`The transaction has ended (${held.finished}); a statement cannot run in it`);
  const connection = own ?? ((await manager.getConnection({ type: 'write' })) as unknown as PgConnection);
  try {
    return (await runPrepared(connection, text, values, own !== undefined)) as T[];
  } catch (error) {
    if (error instanceof RetryTransactionError) throw error;
    throw asDatabaseError(error, text, values);
  } finally {
    if (!own) manager.releaseConnection(connection as never);
  }
}
