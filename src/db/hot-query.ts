import { DatabaseError } from 'sequelize';
import { getSequelize } from './index';

/**
 * Read-only queries on hot paths (catalog listing, search, product pages), run on a pooled
 * connection of Sequelize but without its per-call SQL rewriting: the named `$binds` of a
 * statement are turned into pg's positional ones once per distinct SQL text, and the values are
 * sent apart from the text as always. Rows are parsed as Sequelize's own raw queries parse them
 * (the connection carries Sequelize's type parsers).
 */

export interface Compiled {
  text: string;
  names: string[];
}

interface PgConnection {
  query(text: string, values: unknown[]): Promise<{ rows: unknown[] }>;
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

export interface BoundStatement {
  sql: string;
  bind: Record<string, unknown>;
}

export async function selectRows<T>(statement: BoundStatement): Promise<T[]> {
  const { text, names } = toPositional(statement.sql);
  const values = names.map((name) => {
    if (!(name in statement.bind)) throw new Error(`No value bound for $${name}`);
    return statement.bind[name];
  });
  const manager = getSequelize().connectionManager;
  const connection = (await manager.getConnection({ type: 'read' })) as unknown as PgConnection;
  try {
    const result = await connection.query(text, values);
    return result.rows as T[];
  } catch (error) {
    // The same error class as Sequelize's own queries, so the error handler maps both alike.
    throw new DatabaseError(Object.assign(error as Error, { sql: text, parameters: values }) as never);
  } finally {
    manager.releaseConnection(connection as never);
  }
}
