import { QueryTypes } from 'sequelize';
import { generateCatalog } from '../../src/seed/catalog';
import { generateOrders } from '../../src/seed/orders';
import { ledgerService } from '../../src/modules/finance/ledger.service';
import { STATS_STATEMENTS, statsService } from '../../src/modules/finance/stats.service';
import { toMinor } from '../../src/platform/utils/money';
import { useTestDatabase } from '../support/database';

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

function nodesOf(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodesOf)];
}

/**
 * The admin's statistics on a year of about 100,000 order lines: a month's figures come from the
 * indexes (orders by payment time, lines by order), never from a scan of the whole history, and
 * the generated history holds the same invariants as the one the services write.
 */
describe('statistics on 100,000 order lines', () => {
  const db = useTestDatabase();
  const month = { from: new Date(Date.now() - 30 * 86_400_000), to: new Date() };

  beforeAll(async () => {
    await generateCatalog(db.current.sequelize, { products: 500, sellers: 25, bcryptRounds: 4, seed: 11 });
    const { lines } = await generateOrders(db.current.sequelize, { orders: 45_000, days: 730, bcryptRounds: 4 });
    expect(lines).toBeGreaterThan(100_000);
    for (const table of ['orders', 'order_items', 'transactions', 'seller_ledger_entries']) await db.current.sequelize.query(`VACUUM ANALYZE ${table}`);
  }, 300_000);

  async function plan(statement: { sql: string; bind: Record<string, unknown> }): Promise<PlanNode[]> {
    const [row] = await db.current.sequelize.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>(`EXPLAIN (FORMAT JSON) ${statement.sql}`, {
      bind: statement.bind,
      type: QueryTypes.SELECT,
    });
    return nodesOf(row['QUERY PLAN'][0].Plan);
  }

  function seqScans(nodes: PlanNode[], table: string): PlanNode[] {
    return nodes.filter((node) => node['Relation Name'] === table && node['Node Type'] === 'Seq Scan');
  }

  it('reads a month of orders and their lines through indexes', async () => {
    for (const statement of [STATS_STATEMENTS.overview(month), STATS_STATEMENTS.lines(month), STATS_STATEMENTS.topSellers(month, 10)]) {
      const nodes = await plan(statement);
      expect(seqScans(nodes, 'orders')).toEqual([]);
      expect(seqScans(nodes, 'order_items')).toEqual([]);
      expect(seqScans(nodes, 'transactions')).toEqual([]);
    }
    const lines = await plan(STATS_STATEMENTS.lines(month));
    expect(lines.some((node) => node['Index Name'] === 'order_items_order_id_figures_idx')).toBe(true);
    const daily = await plan(STATS_STATEMENTS.sales(month, 'day'));
    expect(daily.some((node) => node['Index Name'] === 'orders_paid_at_idx')).toBe(true);
    expect(seqScans(daily, 'order_items')).toEqual([]);
  });

  it('keeps the generated history consistent: buckets add up to the overview, the ledger to the balances', async () => {
    const overview = await statsService.overview(month);
    const series = await statsService.sales(month, 'week');
    const sum = (field: 'grossSales' | 'commission' | 'refunds') => series.reduce((total, bucket) => total + toMinor(bucket[field]), 0);
    expect(sum('grossSales')).toBe(toMinor(overview.grossSales));
    expect(sum('commission')).toBe(toMinor(overview.commission));
    expect(sum('refunds')).toBe(toMinor(overview.refunds));
    const [seller] = await db.current.sequelize.query<{ seller_id: string }>('SELECT seller_id FROM order_items LIMIT 1', { type: QueryTypes.SELECT });
    const [entries] = await db.current.sequelize.query<{ total: string }>(`SELECT sum(amount)::text AS total FROM seller_ledger_entries WHERE seller_id = $id`, {
      bind: { id: seller.seller_id },
      type: QueryTypes.SELECT,
    });
    const balance = await ledgerService.balance(seller.seller_id);
    expect(toMinor(entries.total)).toBe(toMinor(balance.available) + toMinor(balance.pending));
  });
});
