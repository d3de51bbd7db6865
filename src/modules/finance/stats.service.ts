import { queryRows } from '../../platform/db/query';
import { queryReadRows } from '../../platform/db/replicas';
import { inTransaction } from '../../platform/db/transaction';
import { fromMinor, toMinor } from '../../platform/utils/money';
import { ledgerService, REFUND_MADE, type BalanceView } from './ledger.service';
import { lineCommissionSql } from './money-rules';

/**
 * Sales figures, computed in SQL from one set of definitions (the contract's money rules), so
 * that the admin overview, the sales series, the top lists and each seller's own statistics
 * agree to the cent for the same period:
 * - a sale is a line of an order that has been paid, dated by the order's paidAt;
 * - grossSales is the amountPaid of the orders paid in the period (lines, tax and shipping);
 * - refunds are the succeeded refunds made in the period (not those of surplus payments, which
 *   were never sales);
 * - a line's "lineTotal" is what its seller is credited for it (sellerAmount: a seller's own
 *   promotion lowers it, the platform's does not) and its commission is
 *   round_half_up((sellerAmount − refunded) × its rate);
 * - a seller's grossRevenue is the sum of their lines, `shipping` the shipping they were credited;
 *   refunds take back both; netEarnings = grossRevenue + shipping − refunds − commission (their ledger);
 * - the overview's tax, shipping (credited to sellers) and discounts (by who bears them) are those of
 *   the orders in grossSales, so that grossSales = Σ sellers' (grossRevenue + shipping) + tax − discounts.platform.
 * Periods are half-open, [from, to), in UTC.
 */

export interface Period {
  from: Date;
  to: Date;
}

export type Interval = 'day' | 'week' | 'month';

export interface OverviewView {
  grossSales: string;
  refunds: string;
  netSales: string;
  commission: string;
  /** Discounts of the period's orders, by who bears them (a seller's code lowers that seller's grossRevenue). */
  discounts: { platform: string; seller: string };
  /** Shipping credited to sellers. */
  shipping: string;
  tax: string;
  orderCount: number;
  ordersByStatus: Record<string, number>;
  averageOrderValue: string;
  newCustomers: number;
  newSellers: number;
  /** Payouts created and not paid yet (whatever the period). */
  pendingPayouts: string;
}

export interface SalesBucketView {
  /** The bucket's start, ISO 8601 in UTC. */
  period: string;
  orderCount: number;
  grossSales: string;
  refunds: string;
  netSales: string;
  commission: string;
}

export interface TopProductView {
  productId: string | null;
  name: string;
  unitsSold: number;
  grossRevenue: string;
}

export interface TopSellerView {
  sellerId: string;
  name: string;
  storeName: string | null;
  unitsSold: number;
  grossRevenue: string;
  shipping: string;
  commission: string;
  netEarnings: string;
}

export interface SellerStatsView {
  salesCount: number;
  unitsSold: number;
  grossRevenue: string;
  shipping: string;
  commission: string;
  refunds: string;
  netEarnings: string;
  balance: BalanceView;
  /** Active variants at or below their threshold: `id` is the product's. */
  lowStockProducts: Array<{ id: string; name: string; variantId: string; variantTitle: string; sku: string; stockQuantity: number; lowStockThreshold: number }>;
}

/** Orders that count as paid: those with a payment, refunded since or not. */
const PAID_ORDER = `o.paid_at IS NOT NULL AND o.payment_status IN ('paid', 'partially_refunded', 'refunded')`;
const COMMISSION = lineCommissionSql('oi.seller_amount', 'oi.refunded_amount', 'oi.commission_rate');

/** Numeric sums read as text, returned as "0.00" strings. */
function money(value: string | null | undefined): string {
  return fromMinor(toMinor(value ?? '0'));
}

/** The average in cents, half up, without floats. */
function averageOf(totalMinor: number, count: number): number {
  return count === 0 ? 0 : Math.floor((2 * totalMinor + count) / (2 * count));
}

interface Statement {
  sql: string;
  bind: Record<string, unknown>;
}

/**
 * The period [from, to) cut at UTC days, for SALES_PARTS and ORDERS_BY_STATUS: the whole days
 * inside it are read from the daily rows, [days_from, days_to); a partial day at either end either
 * from its own rows (orders, refunds) between the period's edge and the day's, or, when that is
 * the longer side, as its daily row less the rows on the other side of the edge (`first_day_less`,
 * `last_day_less`): a first day the period holds more than half of, and a last day of which more
 * is inside the period than after it up to now. Both are exact, the daily rows and the rows being
 * read in one snapshot. A dashboard's "last N days" (to = now, or a moment before the statement
 * runs) thus reads its last day as today's row less the few orders since `to`, not every order of
 * the day, and no partial day ever reads more than half a day's rows.
 */
const PERIOD_BOUNDS = `bounds AS (
  SELECT lo, hi, first_day_less, last_day_less,
         CASE WHEN first_day_less THEN lo_day ELSE first_day END AS days_from,
         CASE WHEN last_day_less THEN last_day + interval '1 day' ELSE last_day END AS days_to,
         -- The rows read at the start and at the end, each one range.
         CASE WHEN first_day_less THEN lo_day ELSE lo END AS start_from,
         CASE WHEN first_day_less THEN lo ELSE least(first_day, hi) END AS start_to,
         CASE WHEN last_day_less THEN hi ELSE greatest(last_day, first_day) END AS end_from,
         CASE WHEN last_day_less THEN last_day + interval '1 day' ELSE hi END AS end_to
    FROM (SELECT *, (lo > lo_day AND hi >= first_day AND first_day - lo > interval '12 hours') AS first_day_less,
                 (hi > last_day AND last_day >= first_day AND least(last_day + interval '1 day', now()) - hi < hi - last_day) AS last_day_less
            FROM (SELECT lo, hi, lo_day, CASE WHEN lo = lo_day THEN lo ELSE lo_day + interval '1 day' END AS first_day,
                         date_trunc('day', hi, 'UTC') AS last_day
                    FROM (SELECT $from::timestamptz AS lo, $to::timestamptz AS hi, date_trunc('day', $from::timestamptz, 'UTC') AS lo_day) given) days) chosen
)`;

/** Rows of a partial day at either end of the period (see PERIOD_BOUNDS), by their time `at`, from the bounds `b`. */
function partialDays(at: string): string {
  return `((${at} >= b.start_from AND ${at} < b.start_to) OR (${at} >= b.end_from AND ${at} < b.end_to))`;
}

/**
 * The sales and refunds of [from, to) as rows (at, orders, gross, tax, shipping, platform_discount,
 * seller_discount, commission, refunds): the whole UTC days from sales_days, one row a day; the
 * partial days at its ends from their paid orders (over orders_paid_at_idx) and their refund
 * transactions (over transactions_type_status_created_at_idx), those outside the period with
 * their figures negated (see PERIOD_BOUNDS). Every money figure has two decimals, zeros included
 * (0.00, never 0): their sums then print as money ("12.50", "0.00") without rounding each one.
 */
const SALES_PARTS = `
WITH ${PERIOD_BOUNDS}, parts AS (
  SELECT d.day::timestamp AT TIME ZONE 'UTC' AS at, d.orders, d.amount_paid AS gross, d.tax, d.shipping, d.platform_discount, d.seller_discount, d.commission,
         d.refunds
    FROM sales_days d, bounds b
   WHERE d.day >= (b.days_from AT TIME ZONE 'UTC')::date AND d.day < (b.days_to AT TIME ZONE 'UTC')::date
  UNION ALL
  SELECT o.paid_at, sign, sign * o.amount_paid, sign * o.tax_amount,
         sign * (SELECT coalesce(sum(s.seller_amount), 0.00) FROM order_shipping s WHERE s.order_id = o.id),
         sign * CASE WHEN o.discount_funded_by = 'platform' THEN o.discount_amount ELSE 0.00 END,
         sign * CASE WHEN o.discount_funded_by = 'seller' THEN o.discount_amount ELSE 0.00 END,
         sign * (SELECT coalesce(sum(${COMMISSION}), 0.00) FROM order_items oi WHERE oi.order_id = o.id),
         0.00
    FROM orders o, bounds b, LATERAL (SELECT CASE WHEN o.paid_at < b.lo OR o.paid_at >= b.hi THEN -1 ELSE 1 END AS sign) x
   WHERE ${PAID_ORDER} AND ${partialDays('o.paid_at')}
  UNION ALL
  SELECT t.created_at, 0, 0.00, 0.00, 0.00, 0.00, 0.00, 0.00, CASE WHEN t.created_at < b.lo OR t.created_at >= b.hi THEN -t.amount ELSE t.amount END
    FROM transactions t, bounds b
   WHERE ${REFUND_MADE} AND ${partialDays('t.created_at')}
)`;

/** Orders of `s.status` created in [from, upTo) of the bounds `b`. */
const statusCount = (from: string, upTo: string) => `(SELECT count(*) FROM orders o WHERE o.status = s.status AND o.created_at >= ${from} AND o.created_at < ${upTo})`;

/**
 * The orders placed in [from, to) by their status now, as one json object (statuses with none left
 * out), for a statement that starts with SALES_PARTS (its bounds): the whole UTC days from
 * order_status_days plus the deltas not compacted yet, read by the same statement, so in one
 * snapshot a change is counted once, in one table or the other; the partial days at the ends by
 * index-only range counts per status over orders_status_created_at_idx, added, or taken off the
 * day's rows when those are read instead (see PERIOD_BOUNDS).
 */
const ORDERS_BY_STATUS = `(
  SELECT json_object_agg(c.status, c.n ORDER BY c.status) FROM (
    SELECT k.status, sum(k.n)::int AS n FROM (
      SELECT d.status, d.orders AS n FROM order_status_days d, bounds b
       WHERE d.day >= (b.days_from AT TIME ZONE 'UTC')::date AND d.day < (b.days_to AT TIME ZONE 'UTC')::date
      UNION ALL
      SELECT x.status, x.delta FROM order_status_deltas x, bounds b
       WHERE x.day >= (b.days_from AT TIME ZONE 'UTC')::date AND x.day < (b.days_to AT TIME ZONE 'UTC')::date
      UNION ALL
      SELECT s.status,
             CASE WHEN b.first_day_less THEN -1 ELSE 1 END * ${statusCount('b.start_from', 'b.start_to')}
             + CASE WHEN b.last_day_less THEN -1 ELSE 1 END * ${statusCount('b.end_from', 'b.end_to')}
        FROM bounds b, unnest(enum_range(NULL::enum_orders_status)) AS s(status)
    ) k GROUP BY k.status HAVING sum(k.n) > 0
  ) c)`;

/**
 * Moves the committed deltas into order_status_days in one statement: DELETE … RETURNING takes
 * only committed rows (a transaction not committed yet leaves its deltas to the next run), and
 * a second compaction at the same time waits for the first's rows and then skips them, so no
 * delta is counted twice. Answers how many deltas it moved.
 */
const COMPACT_STATUS_DAYS = `
WITH moved AS (
  DELETE FROM order_status_deltas RETURNING day, status, delta
), summed AS (
  SELECT day, status, sum(delta)::int AS orders, count(*)::int AS deltas FROM moved GROUP BY day, status
), added AS (
  INSERT INTO order_status_days AS d (day, status, orders)
  SELECT day, status, orders FROM summed WHERE orders <> 0
  ON CONFLICT (day, status) DO UPDATE SET orders = d.orders + EXCLUDED.orders
)
SELECT coalesce(sum(deltas), 0)::int AS moved FROM summed`;

/** The statements behind the figures (exported so that their plans can be checked). */
export const STATS_STATEMENTS = {
  /**
   * The overview's figures in one round trip: sales and refunds from SALES_PARTS (a row a day), the
   * orders by status, new users and pending payouts counted over their own indexes.
   */
  overview: (period: Period): Statement => ({
    sql: `${SALES_PARTS}
          SELECT coalesce(sum(p.orders), 0)::int AS count, coalesce(sum(p.gross), 0)::text AS gross,
                 coalesce(sum(p.tax), 0)::text AS tax, coalesce(sum(p.shipping), 0)::text AS shipping,
                 coalesce(sum(p.platform_discount), 0)::text AS platform_discount, coalesce(sum(p.seller_discount), 0)::text AS seller_discount,
                 coalesce(sum(p.commission), 0)::text AS commission, coalesce(sum(p.refunds), 0)::text AS refunds,
                 ${ORDERS_BY_STATUS} AS by_status,
                 (SELECT count(*) FROM users WHERE role = 'customer' AND created_at >= $from AND created_at < $to)::int AS customers,
                 (SELECT count(*) FROM users WHERE role = 'seller' AND created_at >= $from AND created_at < $to)::int AS sellers,
                 (SELECT coalesce(sum(net_amount), 0) FROM seller_payouts WHERE status = 'pending')::text AS pending_payouts
            FROM parts p`,
    bind: { from: period.from, to: period.to },
  }),
  lines: (period: Period, sellerId?: string): Statement => ({
    sql: `WITH sold AS (
            SELECT o.id AS order_id, oi.seller_id, oi.quantity, oi.seller_amount, oi.refunded_amount, ${COMMISSION} AS commission
              FROM orders o JOIN order_items oi ON oi.order_id = o.id
             WHERE ${PAID_ORDER} AND o.paid_at >= $from AND o.paid_at < $to ${sellerId ? 'AND oi.seller_id = $sellerId' : ''}
          ), parcels AS (
            SELECT s.seller_amount, CASE WHEN s.refunded_at IS NULL THEN 0 ELSE s.seller_amount END AS refunded
              FROM order_shipping s WHERE (s.order_id, s.seller_id) IN (SELECT DISTINCT order_id, seller_id FROM sold)
          )
          SELECT coalesce(sum(quantity), 0)::int AS units, coalesce(sum(seller_amount), 0)::text AS gross,
                 coalesce(sum(commission), 0)::text AS commission, coalesce(sum(refunded_amount), 0)::text AS refunded,
                 count(DISTINCT order_id)::int AS orders,
                 (SELECT coalesce(sum(seller_amount), 0) FROM parcels)::text AS shipping,
                 (SELECT coalesce(sum(refunded), 0) FROM parcels)::text AS shipping_refunded
            FROM sold`,
    bind: { from: period.from, to: period.to, ...(sellerId ? { sellerId } : {}) },
  }),
  /**
   * The series as JSON text, one bucket a day, week or month: every bucket starts at a UTC
   * midnight, and its money figures are SALES_PARTS' two-decimal sums as they print.
   */
  sales: (period: Period, interval: Interval): Statement => ({
    sql: `${SALES_PARTS},
          series AS (
            SELECT b FROM generate_series(date_trunc($unit, $from::timestamptz AT TIME ZONE 'UTC'),
                                          ($to::timestamptz AT TIME ZONE 'UTC') - interval '1 microsecond', interval '1 ${interval}') AS b
          ), sales AS (
            SELECT date_trunc($unit, at AT TIME ZONE 'UTC') AS b, sum(orders) AS orders, sum(gross) AS gross, sum(commission) AS commission,
                   sum(refunds) AS refunds
              FROM parts GROUP BY 1
          )
          SELECT '[' || coalesce(string_agg(
                   '{"period":"' || to_char(series.b, 'YYYY-MM-DD') || 'T00:00:00.000Z'
                   || '","orderCount":' || coalesce(s.orders, 0)::int
                   || ',"grossSales":"' || coalesce(s.gross, 0.00)
                   || '","refunds":"' || coalesce(s.refunds, 0.00)
                   || '","netSales":"' || (coalesce(s.gross, 0.00) - coalesce(s.refunds, 0.00))
                   || '","commission":"' || coalesce(s.commission, 0.00) || '"}',
                   ',' ORDER BY series.b), '') || ']' AS series
            FROM series LEFT JOIN sales s ON s.b = series.b`,
    bind: { from: period.from, to: period.to, unit: interval },
  }),
  topSellers: (period: Period, limit: number): Statement => ({
    sql: `SELECT s.seller_id, u.name, sp.store_name, s.units, s.gross::text, s.commission::text, s.refunded::text,
                 coalesce(p.shipping, 0)::text AS shipping, coalesce(p.shipping_refunded, 0)::text AS shipping_refunded
            FROM (SELECT oi.seller_id, sum(oi.quantity)::int AS units, sum(oi.seller_amount) AS gross, sum(${COMMISSION}) AS commission,
                         sum(oi.refunded_amount) AS refunded
                    FROM orders o JOIN order_items oi ON oi.order_id = o.id
                   WHERE ${PAID_ORDER} AND o.paid_at >= $from AND o.paid_at < $to
                   GROUP BY oi.seller_id) s
            LEFT JOIN (SELECT sh.seller_id, sum(sh.seller_amount) AS shipping,
                              sum(CASE WHEN sh.refunded_at IS NULL THEN 0 ELSE sh.seller_amount END) AS shipping_refunded
                         FROM orders o JOIN order_shipping sh ON sh.order_id = o.id
                        WHERE ${PAID_ORDER} AND o.paid_at >= $from AND o.paid_at < $to
                        GROUP BY sh.seller_id) p ON p.seller_id = s.seller_id
            JOIN users u ON u.id = s.seller_id
            LEFT JOIN seller_profiles sp ON sp.user_id = s.seller_id
           ORDER BY s.gross DESC, s.seller_id
           LIMIT $limit`,
    bind: { from: period.from, to: period.to, limit },
  }),
};

interface LineFigures {
  units: number;
  gross: string;
  commission: string;
  refunded: string;
  orders: number;
  shipping: string;
  shippingRefunded: string;
}

export class StatsService {
  /** One statement, so every figure comes from the same snapshot (and one round trip). */
  async overview(period: Period): Promise<OverviewView> {
    const statement = STATS_STATEMENTS.overview(period);
    const [row] = await queryReadRows<{
      count: number;
      gross: string;
      tax: string;
      shipping: string;
      platform_discount: string;
      seller_discount: string;
      commission: string;
      refunds: string;
      by_status: Record<string, number> | null;
      customers: number;
      sellers: number;
      pending_payouts: string;
    }>(statement.sql, statement.bind);
    const gross = toMinor(row.gross);
    return {
      grossSales: money(row.gross),
      refunds: money(row.refunds),
      netSales: fromMinor(gross - toMinor(row.refunds)),
      commission: money(row.commission),
      discounts: { platform: money(row.platform_discount), seller: money(row.seller_discount) },
      shipping: money(row.shipping),
      tax: money(row.tax),
      orderCount: row.count,
      ordersByStatus: row.by_status ?? {},
      averageOrderValue: fromMinor(averageOf(gross, row.count)),
      newCustomers: row.customers,
      newSellers: row.sellers,
      pendingPayouts: money(row.pending_payouts),
    };
  }

  /**
   * Moves the committed order status deltas into order_status_days (the `stats.compact-order-status`
   * job, every minute) and drops the days' rows that fell to 0. Answers how many deltas it moved.
   */
  async compactOrderStatusDays(): Promise<number> {
    return inTransaction(
      async (transaction) => {
        const [{ moved }] = await queryRows<{ moved: number }>(COMPACT_STATUS_DAYS, {}, transaction);
        // A row another compaction made non-zero meanwhile is seen as it is now and kept.
        if (moved > 0) await queryRows('DELETE FROM order_status_days WHERE orders = 0', {}, transaction);
        return moved;
      },
      { name: 'compact order status days' },
    );
  }

  /** order_status_days built again from the orders, with no delta left (`npm run stats:rebuild`). */
  async rebuildOrderStatusDays(): Promise<void> {
    await inTransaction(
      async (transaction) => {
        // Waits for the transactions that wrote deltas, then holds back new ones (orders placed or
        // moved wait at their trigger) and compactions until this commits: the orders counted
        // below are exactly those whose deltas are dropped.
        await queryRows('LOCK TABLE order_status_deltas IN EXCLUSIVE MODE', {}, transaction);
        await queryRows('DELETE FROM order_status_deltas', {}, transaction);
        await queryRows('DELETE FROM order_status_days', {}, transaction);
        await queryRows(
          `INSERT INTO order_status_days (day, status, orders)
           SELECT (created_at AT TIME ZONE 'UTC')::date, status, count(*) FROM orders GROUP BY 1, 2`,
          {},
          transaction,
        );
      },
      { name: 'rebuild order status days' },
    );
  }

  /** The period's sales lines, of one seller or of all. */
  private async lineFigures(period: Period, sellerId?: string): Promise<LineFigures> {
    const statement = STATS_STATEMENTS.lines(period, sellerId);
    const [row] = await queryReadRows<{ units: number; gross: string; commission: string; refunded: string; orders: number; shipping: string; shipping_refunded: string }>(
      statement.sql,
      statement.bind,
    );
    return {
      units: row.units,
      gross: money(row.gross),
      commission: money(row.commission),
      refunded: money(row.refunded),
      orders: row.orders,
      shipping: money(row.shipping),
      shippingRefunded: money(row.shipping_refunded),
    };
  }

  /**
   * Buckets of the period (every one, empty ones included), each computed as the overview is, as
   * the JSON text of their array, made by the statement: a year by day is 366 buckets, which
   * parsed into rows, mapped and serialized again cost the API more than the statement costs.
   * Amounts are sums of stored two-decimal amounts, shown with two decimals as fromMinor does.
   * The text is put together by concatenation (every value a number or a date, nothing to escape):
   * json_build_object per bucket made the statement a third slower.
   */
  async salesJson(period: Period, interval: Interval): Promise<string> {
    const statement = STATS_STATEMENTS.sales(period, interval);
    const [row] = await queryReadRows<{ series: string }>(statement.sql, statement.bind);
    return row.series;
  }

  async sales(period: Period, interval: Interval): Promise<SalesBucketView[]> {
    return JSON.parse(await this.salesJson(period, interval)) as SalesBucketView[];
  }

  async topProducts(period: Period, limit: number): Promise<TopProductView[]> {
    const rows = await queryReadRows<{ product_id: string | null; name: string; units: number; gross: string }>(
      `SELECT oi.product_id, max(oi.product_name) AS name, sum(oi.quantity)::int AS units, sum(oi.seller_amount)::text AS gross
         FROM orders o JOIN order_items oi ON oi.order_id = o.id
        WHERE ${PAID_ORDER} AND o.paid_at >= $from AND o.paid_at < $to
        GROUP BY oi.product_id
        ORDER BY sum(oi.seller_amount) DESC, oi.product_id
        LIMIT $limit`,
      { from: period.from, to: period.to, limit },
    );
    return rows.map((row) => ({ productId: row.product_id, name: row.name, unitsSold: row.units, grossRevenue: money(row.gross) }));
  }

  async topSellers(period: Period, limit: number): Promise<TopSellerView[]> {
    const statement = STATS_STATEMENTS.topSellers(period, limit);
    const rows = await queryReadRows<{
      seller_id: string;
      name: string;
      store_name: string | null;
      units: number;
      gross: string;
      commission: string;
      refunded: string;
      shipping: string;
      shipping_refunded: string;
    }>(
      statement.sql,
      statement.bind,
    );
    return rows.map((row) => ({
      sellerId: row.seller_id,
      name: row.name,
      storeName: row.store_name,
      unitsSold: row.units,
      grossRevenue: money(row.gross),
      shipping: money(row.shipping),
      commission: money(row.commission),
      netEarnings: fromMinor(toMinor(row.gross) + toMinor(row.shipping) - toMinor(row.refunded) - toMinor(row.shipping_refunded) - toMinor(row.commission)),
    }));
  }

  /** A seller's own figures, by the same definitions as the admin's top-sellers row of that seller. */
  async seller(sellerId: string, period: Period): Promise<SellerStatsView> {
    const lines = await this.lineFigures(period, sellerId);
    const lowStock = await queryReadRows<{ id: string; name: string; variant_id: string; title: string; sku: string; stock_quantity: number; low_stock_threshold: number }>(
      `SELECT p.id, p.name, v.id AS variant_id, v.title, v.sku, v.stock_quantity, v.low_stock_threshold
         FROM product_variants v JOIN products p ON p.id = v.product_id
        WHERE v.seller_id = $sellerId AND v.deleted_at IS NULL AND v.status = 'active' AND v.stock_quantity <= v.low_stock_threshold
          AND p.deleted_at IS NULL AND p.status IN ('active', 'out_of_stock')
        ORDER BY v.stock_quantity, p.name, v.position, v.id LIMIT 50`,
      { sellerId },
    );
    return {
      salesCount: lines.orders,
      unitsSold: lines.units,
      grossRevenue: lines.gross,
      shipping: lines.shipping,
      commission: lines.commission,
      refunds: fromMinor(toMinor(lines.refunded) + toMinor(lines.shippingRefunded)),
      netEarnings: fromMinor(toMinor(lines.gross) + toMinor(lines.shipping) - toMinor(lines.refunded) - toMinor(lines.shippingRefunded) - toMinor(lines.commission)),
      balance: await ledgerService.balance(sellerId),
      lowStockProducts: lowStock.map((row) => ({
        id: row.id,
        name: row.name,
        variantId: row.variant_id,
        variantTitle: row.title,
        sku: row.sku,
        stockQuantity: row.stock_quantity,
        lowStockThreshold: row.low_stock_threshold,
      })),
    };
  }
}

export const statsService = new StatsService();
