import type { Pool, QueryConfig } from 'pg';
import { statementName, toStatement } from '../src/platform/db/query';
import { buildDetailStatement, buildListStatement } from '../src/modules/catalog/product.service';

/**
 * The API's own SQL for the list page and the product by slug, run as the API runs them, for the
 * servers the bench sets beside the API (bench/bare-server.ts, bench/express-floor.ts): they
 * answer the rows as they come, so that they differ from each other only in what serves them.
 */

/** The page size of the list rows. */
export const LIST_LIMIT = 20;

/** A positional statement as a named prepared statement, under the name the API's SQL gateway gives its text. */
export function named(text: string, values: unknown[]): QueryConfig {
  return { name: statementName(text), text, values };
}

/** A statement with named `$binds` (the API's form) as a named prepared statement. */
export function prepared(sql: string, bind: Record<string, unknown>): QueryConfig {
  const { text, values } = toStatement(sql, bind);
  return named(text, values);
}

/** A page of the listed products, newest first, with the pagination the API's list answers with. */
export async function listPage(pool: Pool, page: number): Promise<unknown> {
  const statement = buildListStatement({ page, limit: LIST_LIMIT, sortBy: 'createdAt', sortOrder: 'desc' });
  const { rows } = await pool.query<{ id: string | null; total: string | number }>(prepared(statement.sql, statement.bind));
  const total = Number(rows[0]?.total ?? 0);
  return { products: rows.filter((row) => row.id !== null), pagination: { page, limit: LIST_LIMIT, total, totalPages: Math.ceil(total / LIST_LIMIT) } };
}

/** The product page's row, or undefined. */
export async function productBySlug(pool: Pool, slug: string): Promise<unknown> {
  const statement = buildDetailStatement({ slug });
  const { rows } = await pool.query(prepared(statement.sql, statement.bind));
  return rows[0];
}
