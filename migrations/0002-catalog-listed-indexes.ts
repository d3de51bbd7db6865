import type { MigrationFn } from '../src/platform/db/migrator';

/**
 * The public catalog lists active and out-of-stock products (an active product that sold out
 * stays visible, flagged `inStock: false`), so the partial indexes of its sorts cover both
 * statuses: a partial index is only used when the query's WHERE implies its predicate.
 * Each sort index ends with `id`, the tie-break of every listing, so a page is read in index
 * order and stops at LIMIT instead of sorting every row with an equal sort key.
 */

const LISTED = `status IN ('active', 'out_of_stock') AND deleted_at IS NULL`;
const ACTIVE_ONLY = `status = 'active' AND deleted_at IS NULL`;

const INDEXES: Array<{ name: string; columns: string; before: string }> = [
  { name: 'products_listed_created_at_idx', columns: 'created_at DESC, id DESC', before: 'created_at DESC' },
  { name: 'products_listed_price_idx', columns: 'price, id', before: 'price' },
  { name: 'products_listed_average_rating_idx', columns: 'average_rating DESC, id DESC', before: 'average_rating DESC' },
  { name: 'products_listed_view_count_idx', columns: 'view_count DESC, id DESC', before: 'view_count DESC' },
  { name: 'products_listed_name_idx', columns: 'name, id', before: 'name' },
  { name: 'products_listed_category_id_price_idx', columns: 'category_id, price, id', before: 'category_id, price' },
];

export const up: MigrationFn = async ({ context: { sequelize } }) => {
  await sequelize.transaction(async (transaction) => {
    for (const index of INDEXES) {
      await sequelize.query(`DROP INDEX ${index.name}`, { transaction });
      await sequelize.query(`CREATE INDEX ${index.name} ON products (${index.columns}) WHERE ${LISTED}`, { transaction });
    }
  });
};

export const down: MigrationFn = async ({ context: { sequelize } }) => {
  await sequelize.transaction(async (transaction) => {
    for (const index of INDEXES) {
      await sequelize.query(`DROP INDEX ${index.name}`, { transaction });
      await sequelize.query(`CREATE INDEX ${index.name} ON products (${index.before}) WHERE ${ACTIVE_ONLY}`, { transaction });
    }
  });
};
