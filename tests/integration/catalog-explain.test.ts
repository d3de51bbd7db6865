import { QueryTypes } from 'sequelize';
import { generateCatalog } from '../../src/seed/catalog';
import { Category } from '../../src/models';
import { buildFacetsStatement, buildListStatement, buildSearchStatement, type CatalogStatement } from '../../src/modules/catalog/product.service';
import { toStatement } from '../../src/platform/db/query';
import { useTestDatabase } from '../support/database';

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
  [key: string]: unknown;
}

function nodesOf(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodesOf)];
}

/** The scans of the products table anywhere in the plan. */
function productScans(plan: PlanNode): PlanNode[] {
  return nodesOf(plan).filter((node) => node['Relation Name'] === 'products');
}

/** The sub-plan that reads the page: the one under the Limit node. */
function pagePlan(plan: PlanNode): PlanNode {
  const limit = nodesOf(plan).find((node) => node['Node Type'] === 'Limit');
  if (!limit) throw new Error('no Limit node in the plan');
  return limit;
}

function describePlan(plan: PlanNode, depth = 0): string {
  const label = [plan['Node Type'], plan['Relation Name'] && `on ${plan['Relation Name']}`, plan['Index Name'] && `using ${plan['Index Name']}`]
    .filter(Boolean)
    .join(' ');
  return [`${'  '.repeat(depth)}${label}`, ...(plan.Plans ?? []).map((child) => describePlan(child, depth + 1))].join('\n');
}

describe('the catalog hot paths use indexes on a 10,000 product catalog', () => {
  const db = useTestDatabase();
  let categoryId: string;

  beforeAll(async () => {
    await generateCatalog(db.current.sequelize, { products: 10_000, sellers: 20, bcryptRounds: 4, seed: 7 });
    // VACUUM sets the visibility map (as autovacuum does on a live table), so counts can be index-only.
    await db.current.sequelize.query('VACUUM ANALYZE products');
    await db.current.sequelize.query('ANALYZE categories');
    await db.current.sequelize.query('VACUUM ANALYZE product_variants');
    const parent = await Category.findOne({ where: { slug: 'electronics' } });
    categoryId = parent!.id;
  }, 120_000);

  async function explain(statement: CatalogStatement): Promise<PlanNode> {
    const [row] = await db.current.sequelize.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>(`EXPLAIN (FORMAT JSON) ${statement.sql}`, {
      bind: statement.bind,
      type: QueryTypes.SELECT,
    });
    return row['QUERY PLAN'][0].Plan;
  }

  function expectNoSeqScanOnProducts(plan: PlanNode): void {
    const scans = productScans(plan);
    expect(scans.length).toBeGreaterThan(0);
    expect(scans.filter((node) => node['Node Type'] === 'Seq Scan').map(() => describePlan(plan))).toEqual([]);
  }

  /** The page is read from an index in the order asked for: no (incremental) sort of the matching rows before LIMIT. */
  function expectPageInIndexOrder(plan: PlanNode, indexName: string): void {
    const page = pagePlan(plan);
    const below = nodesOf(page).slice(1);
    expect({ plan: describePlan(plan), sorts: below.filter((node) => node['Node Type'].endsWith('Sort')).length }).toEqual({ plan: describePlan(plan), sorts: 0 });
    expect(below.map((node) => node['Index Name'])).toContain(indexName);
  }

  it('pages deep (offset 4,980) from the index alone, reading only the rows of the page from the table', async () => {
    const plan = await explain(buildListStatement({ page: 250, limit: 20, sortBy: 'createdAt' }));
    expectNoSeqScanOnProducts(plan);
    expectPageInIndexOrder(plan, 'products_listed_created_at_idx');
    const skipping = nodesOf(pagePlan(plan)).find((node) => node['Index Name'] === 'products_listed_created_at_idx');
    expect(skipping?.['Node Type']).toBe('Index Only Scan');
  });

  it('reads the first page of the default listing in index order, and counts from an index', async () => {
    const plan = await explain(buildListStatement({ page: 1, limit: 20, sortBy: 'createdAt' }));
    expectNoSeqScanOnProducts(plan);
    expectPageInIndexOrder(plan, 'products_listed_created_at_idx');
  });

  it.each([
    ['price', 'asc', 'products_listed_price_idx'],
    ['price', 'desc', 'products_listed_price_idx'],
    ['name', 'asc', 'products_listed_name_idx'],
    ['averageRating', 'desc', 'products_listed_average_rating_idx'],
    ['viewCount', 'desc', 'products_listed_view_count_idx'],
    ['createdAt', 'asc', 'products_listed_created_at_idx'],
  ] as const)('reads a page sorted by %s %s in the order of %s', async (sortBy, sortOrder, indexName) => {
    const plan = await explain(buildListStatement({ page: 1, limit: 20, sortBy, sortOrder }));
    expectNoSeqScanOnProducts(plan);
    expectPageInIndexOrder(plan, indexName);
  });

  /** A pg connection of the pool, for statements prepared by name as the SQL gateway prepares them. */
  interface RawConnection {
    query(text: string, values?: unknown[]): Promise<{ rows: Array<Record<string, unknown>> }>;
  }

  it.each([
    ['createdAt', 'desc', 'products_listed_created_at_idx'],
    ['price', 'asc', 'products_listed_price_idx'],
    ['name', 'asc', 'products_listed_name_idx'],
  ] as const)('keeps one plan for every page of the listing sorted by %s %s, reading it in the order of %s', async (sortBy, sortOrder, indexName) => {
    const statement = buildListStatement({ page: 2, limit: 20, sortBy, sortOrder });
    const { text, values } = toStatement(statement.sql, statement.bind);
    // Only the offset is bound: the page size is in the text.
    expect(values).toEqual([20]);
    const manager = db.current.sequelize.connectionManager;
    const connection = (await manager.getConnection({ type: 'write' })) as unknown as RawConnection;
    try {
      await connection.query(`PREPARE listing_page AS ${text}`);
      // Pages a crawler reads, from about a twelfth of the catalog on: PostgreSQL keeps the generic
      // plan once its custom plans cost as much on average. Traffic on the first pages keeps getting
      // custom plans, as every execution did with the LIMIT bound.
      for (let page = 1; page <= 12; page += 1) await connection.query(`EXECUTE listing_page(${(page * 397) % 9_980})`);
      const [plans] = (await connection.query(`SELECT generic_plans::int AS generic, custom_plans::int AS custom FROM pg_prepared_statements WHERE name = 'listing_page'`))
        .rows;
      // PostgreSQL plans the first five executions for their values, then keeps the generic plan.
      expect(plans).toEqual({ generic: 7, custom: 5 });
      await connection.query('SET plan_cache_mode = force_generic_plan');
      const [row] = (await connection.query('EXPLAIN (FORMAT JSON) EXECUTE listing_page(4980)')).rows as Array<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>;
      const plan = row['QUERY PLAN'][0].Plan;
      expectNoSeqScanOnProducts(plan);
      expectPageInIndexOrder(plan, indexName);
    } finally {
      // A connection still forcing generic plans or holding the statement is not pooled again.
      const reset = await Promise.all([connection.query('RESET plan_cache_mode'), connection.query('DEALLOCATE listing_page')]).then(
        () => true,
        () => false,
      );
      if (reset) manager.releaseConnection(connection as never);
      else await manager.destroyConnection(connection as never);
    }
  });

  it('writes only the usual page sizes into the listing, so that its texts stay few', () => {
    expect(buildListStatement({ page: 3, limit: 50, sortBy: 'price', sortOrder: 'asc' }).sql).toContain('LIMIT 50 OFFSET $offset::int');
    const unusual = buildListStatement({ page: 3, limit: 37, sortBy: 'price', sortOrder: 'asc' });
    expect(unusual.sql).toContain('LIMIT $limit::int');
    expect(unusual.bind.limit).toBe(37);
  });

  it('binds the page size of a filtered listing or a search, so that each is planned for its values', () => {
    const filtered = buildListStatement({ page: 1, limit: 20, sortBy: 'price', sortOrder: 'asc', category: 'electronics', minPrice: '10.00' });
    expect(filtered.sql).toContain('LIMIT $limit::int');
    expect(filtered.bind.limit).toBe(20);
    const search = buildSearchStatement({ q: 'chair', page: 1, limit: 20, sortBy: 'relevance' });
    expect(search.sql).toContain('LIMIT $limit::int');
  });

  it('reads a category (with its sub-categories) within a price range, sorted by price, through indexes', async () => {
    const plan = await explain(
      buildListStatement({ page: 1, limit: 20, sortBy: 'price', sortOrder: 'asc', category: categoryId, minPrice: '10.00', maxPrice: '500.00' }),
    );
    expectNoSeqScanOnProducts(plan);
    const indexes = productScans(plan).map((node) => node['Index Name']);
    // The page and the count come from the listing indexes; the primary key only fetches the page's 20 rows.
    expect(indexes.filter((name) => name !== 'products_pkey').every((name) => name?.startsWith('products_listed_'))).toBe(true);
    expect(indexes.some((name) => name?.startsWith('products_listed_'))).toBe(true);
  });

  it('searches a common word through the GIN index, for the page and for the count', async () => {
    const [{ ndoc }] = await db.current.sequelize.query<{ ndoc: number }>(
      `SELECT ndoc FROM ts_stat('SELECT search_vector FROM products') WHERE word = 'chair'`,
      { type: QueryTypes.SELECT },
    );
    // A common word indeed: in about a tenth of the catalog.
    expect(ndoc).toBeGreaterThan(500);
    const plan = await explain(buildSearchStatement({ q: 'chair', page: 1, limit: 20, sortBy: 'relevance' }));
    expectNoSeqScanOnProducts(plan);
    const gin = nodesOf(plan).filter((node) => node['Index Name'] === 'products_search_vector_idx');
    expect(gin.length).toBe(2);
  });

  it('searches with the list filter through the GIN index too', async () => {
    const plan = await explain(buildListStatement({ page: 1, limit: 20, sortBy: 'createdAt', search: 'wireless keyboard' }));
    expectNoSeqScanOnProducts(plan);
    expect(nodesOf(plan).some((node) => node['Index Name'] === 'products_search_vector_idx')).toBe(true);
  });

  it('filters by an option value through the option values GIN index, asking the variants only for the page', async () => {
    const plan = await explain(buildListStatement({ page: 1, limit: 20, sortBy: 'createdAt', options: { Size: 'M' } }));
    expectNoSeqScanOnProducts(plan);
    expect(nodesOf(plan).filter((node) => node['Relation Name'] === 'product_variants')).toEqual([]);
    const both = await explain(buildListStatement({ page: 1, limit: 20, sortBy: 'createdAt', options: { Size: 'M', Color: 'Navy' } }));
    expectNoSeqScanOnProducts(both);
    expect(nodesOf(both).filter((node) => node['Relation Name'] === 'product_variants' && node['Node Type'] === 'Seq Scan').map(() => describePlan(both))).toEqual([]);
  });

  it('counts the facets of a category from the product rows alone, through indexes', async () => {
    const plan = await explain(buildFacetsStatement({ category: categoryId }));
    expectNoSeqScanOnProducts(plan);
    expect(nodesOf(plan).filter((node) => node['Relation Name'] === 'product_variants')).toEqual([]);
  });
});
