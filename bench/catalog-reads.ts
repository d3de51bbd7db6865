import { createHash } from 'node:crypto';
import type { Pool, QueryConfig } from 'pg';
import { toStatement } from '../src/platform/db/query';
import { buildDetailStatement, buildListStatement } from '../src/modules/catalog/product.service';

/**
 * The API's own SQL for the list page and the product by slug, run as the API runs them, for the
 * servers the bench sets beside the API (bench/bare-server.ts, bench/express-floor.ts): they
 * answer the rows as they come, so that they differ from each other only in what serves them.
 */

/** The page size of the list rows. */
export const LIST_LIMIT = 20;

const names = new Map<string, string>();

/**
 * A statement as a named prepared statement, as the API's SQL gateway runs them: named by a hash of
 * its text, so each connection parses and plans a text once and then only binds and executes it.
 */
export function named(text: string, values: unknown[]): QueryConfig {
  let name = names.get(text);
  if (name === undefined) {
    name = `b${createHash('sha1').update(text).digest('base64url').slice(0, 24)}`;
    names.set(text, name);
  }
  return { name, text, values };
}

/** A page of the listed products, newest first, with the pagination the API's list answers with. */
export async function listPage(pool: Pool, page: number): Promise<unknown> {
  const statement = buildListStatement({ page, limit: LIST_LIMIT, sortBy: 'createdAt', sortOrder: 'desc' });
  const { text, values } = toStatement(statement.sql, statement.bind);
  const { rows } = await pool.query<{ id: string | null; total: string | number }>(named(text, values));
  const total = Number(rows[0]?.total ?? 0);
  return { products: rows.filter((row) => row.id !== null), pagination: { page, limit: LIST_LIMIT, total, totalPages: Math.ceil(total / LIST_LIMIT) } };
}

/** The product page's row, or undefined. */
export async function productBySlug(pool: Pool, slug: string): Promise<unknown> {
  const statement = buildDetailStatement({ slug });
  const { text, values } = toStatement(statement.sql, statement.bind);
  const { rows } = await pool.query(named(text, values));
  return rows[0];
}
