import type { Pool } from 'pg';
import { hashPassword } from '../src/platform/utils/password';
import type { Customer } from './checkout';

/**
 * The statistics rows of `npm run bench`: the admin's overview and sales series over a generated
 * year of paid orders (about 100,000 lines), read by one signed-in admin.
 */

/** Days of generated history, and the target of the issue for these rows. */
export const STATS_DAYS = 365;
export const STATS_P99_TARGET_MS = 200;

export interface StatsScenario {
  name: string;
  path: string;
  /** A row the p99 target is set on (the 365-day overview and the daily series). */
  target?: boolean;
}

const DAY_MS = 86_400_000;

function period(now: Date, days: number): string {
  const from = new Date(now.getTime() - days * DAY_MS);
  return `from=${encodeURIComponent(from.toISOString())}&to=${encodeURIComponent(now.toISOString())}`;
}

/** The four requests, for periods that end now (the history runs up to the moment it was generated). */
export function statsScenarios(now: Date): StatsScenario[] {
  return [
    { name: 'stats overview, 30 days', path: `/api/admin/stats/overview?${period(now, 30)}` },
    { name: `stats overview, ${STATS_DAYS} days`, path: `/api/admin/stats/overview?${period(now, STATS_DAYS)}`, target: true },
    { name: `sales series, ${STATS_DAYS} days by day`, path: `/api/admin/stats/sales?${period(now, STATS_DAYS)}&interval=day`, target: true },
    { name: `sales series, ${STATS_DAYS} days by week`, path: `/api/admin/stats/sales?${period(now, STATS_DAYS)}&interval=week` },
  ];
}

/** An approved admin account with a bcrypt-hashed password (cost 4, as the bench's other users), made in the database. */
export async function createAdmin(pool: Pool, label: string, password: string): Promise<Customer> {
  const hash = await hashPassword(password, 4);
  const { rows } = await pool.query<Customer>(
    `INSERT INTO users (email, password, name, role, status, email_verified)
     VALUES ('bench-' || $1 || '-admin@example.com', $2, 'Bench admin', 'admin', 'approved', true)
     RETURNING id, email`,
    [label, hash],
  );
  return rows[0];
}

export interface HistoryCounts {
  /** Paid orders (the generated history: the checkout rows' orders are never paid) and their lines. */
  orders: number;
  lines: number;
  refunds: number;
  /** Other orders in the database (those the checkout rows left, unpaid) and their lines. */
  unpaidOrders: number;
  unpaidLines: number;
}

/** What the database holds once the history is written, counted. */
export async function countHistory(pool: Pool): Promise<HistoryCounts> {
  const { rows } = await pool.query<HistoryCounts>(
    `SELECT count(DISTINCT o.id) FILTER (WHERE o.paid_at IS NOT NULL)::int AS orders,
            count(oi.id) FILTER (WHERE o.paid_at IS NOT NULL)::int AS lines,
            (SELECT count(*) FROM refunds)::int AS refunds,
            count(DISTINCT o.id) FILTER (WHERE o.paid_at IS NULL)::int AS "unpaidOrders",
            count(oi.id) FILTER (WHERE o.paid_at IS NULL)::int AS "unpaidLines"
       FROM orders o LEFT JOIN order_items oi ON oi.order_id = o.id`,
  );
  return rows[0];
}

/** The tables the history writes, to VACUUM ANALYZE once it is written. */
export const HISTORY_TABLES = ['orders', 'sales_days', 'order_status_days', 'order_status_deltas', 'order_items', 'order_status_history', 'transactions', 'refunds', 'seller_ledger_entries', 'users'];

/** One line for the log from a probe's answer: what the figures say, to see that they read the history. */
export function describeAnswer(body: string): string {
  const parsed = JSON.parse(body) as { data?: { orderCount?: number; grossSales?: string; series?: Array<{ orderCount: number }> } };
  const data = parsed.data ?? {};
  if (Array.isArray(data.series)) {
    const orders = data.series.reduce((sum, bucket) => sum + bucket.orderCount, 0);
    return `${data.series.length} buckets, ${orders.toLocaleString('en-US')} orders`;
  }
  return `${data.orderCount?.toLocaleString('en-US') ?? '?'} orders, gross sales ${data.grossSales ?? '?'}`;
}
