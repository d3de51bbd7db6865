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
 * short statement's time. Names are derived from the text, so a name always means one text.
 *
 * Each connection keeps at most PREPARED_PER_CONNECTION of them, and deallocates the least
 * recently used to make room, as asyncpg's statement cache does (an LRU of 100 per connection by
 * default): a prepared catalog statement holds about 200 KB of its backend's memory, and the
 * texts clients can cause vary with their filters, sorts and page sizes. A statement in a
 * transaction never makes room (a DEALLOCATE that failed there would abort the unit of work): at
 * the bound it runs unnamed.
 */
export const PREPARED_PER_CONNECTION = 100;
/** The names of the texts seen lately, so that a text is hashed once; a cache, emptied when full. */
const names = new Map<string, string>();
const MAX_NAMES = 2_000;
/** Per connection, the names prepared on it, least recently used first. */
const preparedOn = new WeakMap<PgConnection, Map<string, true>>();
/** Texts whose prepared plan PostgreSQL refused after a schema change: they run unnamed from then on. */
const unprepared = new Set<string>();

/**
 * The name `text` is prepared under, a hash of it (undefined: it runs unnamed): each connection
 * then parses and plans a text once and afterwards only binds and executes it.
 */
export function statementName(text: string): string | undefined {
  if (unprepared.has(text)) return undefined;
  let name = names.get(text);
  if (name === undefined) {
    name = `q${createHash('sha1').update(text).digest('base64url').slice(0, 24)}`;
    if (names.size >= MAX_NAMES) names.clear();
    names.set(text, name);
  }
  return name;
}

/**
 * The name to run `text` under on `connection` (undefined: run it unnamed), at once, or once room
 * is made for it: only then does a statement wait for one more round trip.
 */
function nameOn(connection: PgConnection, text: string, inTransaction: boolean): string | undefined | Promise<string> {
  const name = statementName(text);
  if (name === undefined) return undefined;
  let held = preparedOn.get(connection);
  if (!held) {
    held = new Map();
    preparedOn.set(connection, held);
  }
  if (held.delete(name)) {
    held.set(name, true);
    return name;
  }
  if (held.size < PREPARED_PER_CONNECTION) {
    held.set(name, true);
    return name;
  }
  if (inTransaction) return undefined;
  const [oldest] = held.keys();
  held.delete(oldest);
  held.set(name, true);
  return deallocate(connection, oldest).then(() => name);
}

/** pg's record of the statements it has parsed on a connection (by name): it binds those without parsing them again. */
interface ParsedStatements {
  connection?: { parsedStatements?: Record<string, string> };
}

async function deallocate(connection: PgConnection, name: string): Promise<void> {
  try {
    await connection.query(`DEALLOCATE "${name}"`);
  } catch (error) {
    // 26000: it was never prepared there (its first run failed before PostgreSQL kept it).
    if ((error as { code?: string }).code !== '26000') throw error;
  }
  // Else pg would bind the name again, as still prepared, if the text comes back.
  delete (connection as unknown as ParsedStatements).connection?.parsedStatements?.[name];
}

/**
 * The rows of a statement run on `connection` as a named prepared statement (see above). One whose
 * plan a schema change made stale runs unnamed from then on: alone it simply runs again; in a
 * transaction (aborted by the failure) the whole unit does, by RetryTransactionError.
 */
export async function runPrepared(connection: PgConnection, text: string, values: unknown[], inTransaction: boolean): Promise<unknown[]> {
  const chosen = nameOn(connection, text, inTransaction);
  const name = chosen instanceof Promise ? await chosen : chosen;
  try {
    return (await connection.query({ name, text, values })).rows;
  } catch (error) {
    if (name === undefined || !isStalePlan(error)) throw error;
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
