import type { MigrationFn } from '../src/platform/db/migrator';

/**
 * Products sell as variants (a T-shirt in sizes and colours): stock, price, SKU and images move
 * to `product_variants`, and every existing product becomes a product with one default variant
 * holding its SKU, prices, stock and threshold, so its carts, orders and reviews keep working.
 *
 * The product row keeps what the catalog filters and sorts on, kept in step by the catalog's
 * statements: `price` (lowest active variant price) and `price_max`, `compare_price` of the
 * cheapest variant, `stock_quantity` (the sum over active variants), and `option_values`, the
 * distinct "name␟value" pairs of its active variants (GIN-indexed: the options filter and the
 * facets read the product rows alone). A SKU is unique within a seller's catalog across all
 * their live variants; a product's SKU column only mirrors its variant's when it has one.
 */
export const up: MigrationFn = async ({ context: { sequelize } }) => {
  await sequelize.transaction(async (transaction) => {
    const run = (sql: string) => sequelize.query(sql, { transaction });
    await run(`CREATE TABLE product_variants (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  product_id uuid NOT NULL REFERENCES products (id) ON DELETE CASCADE,
  seller_id uuid NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
  sku varchar(100) NOT NULL,
  title varchar(255) NOT NULL,
  options jsonb NOT NULL DEFAULT '{}' CONSTRAINT product_variants_options_check CHECK (jsonb_typeof(options) = 'object'),
  price numeric(10,2) NOT NULL CONSTRAINT product_variants_price_check CHECK (price > 0),
  compare_price numeric(10,2),
  cost_price numeric(10,2) CONSTRAINT product_variants_cost_price_check CHECK (cost_price >= 0),
  stock_quantity integer NOT NULL DEFAULT 0 CONSTRAINT product_variants_stock_quantity_check CHECK (stock_quantity >= 0),
  low_stock_threshold integer NOT NULL DEFAULT 10 CONSTRAINT product_variants_low_stock_threshold_check CHECK (low_stock_threshold >= 0),
  low_stock_alerted_at timestamptz,
  images jsonb NOT NULL DEFAULT '[]' CONSTRAINT product_variants_images_check CHECK (jsonb_typeof(images) = 'array'),
  status varchar(10) NOT NULL DEFAULT 'active' CONSTRAINT product_variants_status_check CHECK (status IN ('active', 'inactive')),
  position integer NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  deleted_at timestamptz,
  CONSTRAINT product_variants_compare_price_check CHECK (compare_price > price)
)`);
    await run('CREATE UNIQUE INDEX product_variants_seller_id_sku_key ON product_variants (seller_id, sku) WHERE deleted_at IS NULL');
    await run('CREATE UNIQUE INDEX product_variants_product_id_options_key ON product_variants (product_id, options) WHERE deleted_at IS NULL');
    await run(`INSERT INTO product_variants (product_id, seller_id, sku, title, price, compare_price, cost_price, stock_quantity, low_stock_threshold,
                                             low_stock_alerted_at, created_at, updated_at, deleted_at)
               SELECT id, seller_id, sku, 'Default', price, compare_price, cost_price, stock_quantity, low_stock_threshold,
                      low_stock_alerted_at, created_at, updated_at, deleted_at
                 FROM products`);

    await run('DROP INDEX products_seller_id_sku_key');
    await run('ALTER TABLE products ALTER COLUMN sku DROP NOT NULL');
    await run('ALTER TABLE products DROP COLUMN low_stock_alerted_at');
    await run("ALTER TABLE products ADD COLUMN options jsonb NOT NULL DEFAULT '[]' CONSTRAINT products_options_check CHECK (jsonb_typeof(options) = 'array')");
    await run("ALTER TABLE products ADD COLUMN option_values text[] NOT NULL DEFAULT '{}'");
    await run('ALTER TABLE products ADD COLUMN price_max numeric(10,2)');
    await run('UPDATE products SET price_max = price');
    await run('ALTER TABLE products ALTER COLUMN price_max SET NOT NULL');
    await run('ALTER TABLE products ADD CONSTRAINT products_price_max_check CHECK (price_max >= price)');
    await run('CREATE INDEX products_option_values_idx ON products USING gin (option_values)');
    // The facets read these columns of every matching listed product: from this narrow index alone
    // (index-only), not from the wide rows.
    await run(`CREATE INDEX products_listed_facets_idx ON products (category_id) INCLUDE (price, price_max, option_values)
               WHERE status IN ('active', 'out_of_stock') AND deleted_at IS NULL`);

    await run('ALTER TABLE cart_items ADD COLUMN variant_id uuid REFERENCES product_variants (id) ON DELETE CASCADE');
    await run('UPDATE cart_items ci SET variant_id = v.id FROM product_variants v WHERE v.product_id = ci.product_id');
    await run('ALTER TABLE cart_items ALTER COLUMN variant_id SET NOT NULL');
    await run('DROP INDEX cart_items_cart_id_product_id_key');
    await run('CREATE UNIQUE INDEX cart_items_cart_id_variant_id_key ON cart_items (cart_id, variant_id)');
    await run('CREATE INDEX cart_items_variant_id_idx ON cart_items (variant_id)');

    await run('ALTER TABLE order_items ADD COLUMN variant_id uuid REFERENCES product_variants (id) ON DELETE SET NULL');
    await run('ALTER TABLE order_items ADD COLUMN variant_title varchar(255)');
    await run("UPDATE order_items oi SET variant_id = v.id, variant_title = 'Default' FROM product_variants v WHERE v.product_id = oi.product_id");
    await run('CREATE INDEX order_items_variant_id_idx ON order_items (variant_id)');
  });
};

export const down: MigrationFn = async ({ context: { sequelize } }) => {
  await sequelize.transaction(async (transaction) => {
    const run = (sql: string) => sequelize.query(sql, { transaction });
    // Back to one row per product: the first live variant's figures, the stock of all of them.
    await run(`UPDATE products p SET sku = coalesce(p.sku, v.sku), price = v.price, compare_price = v.compare_price, cost_price = v.cost_price,
                      low_stock_threshold = v.low_stock_threshold
                 FROM (SELECT DISTINCT ON (product_id) * FROM product_variants ORDER BY product_id, (deleted_at IS NULL) DESC, position, created_at) v
                WHERE v.product_id = p.id`);
    await run('ALTER TABLE order_items DROP COLUMN variant_title');
    await run('ALTER TABLE order_items DROP COLUMN variant_id');
    await run('DROP INDEX cart_items_cart_id_variant_id_key');
    // Lines of two variants of one product become one.
    await run(`DELETE FROM cart_items a USING cart_items b
                WHERE a.cart_id = b.cart_id AND a.product_id = b.product_id AND (a.created_at, a.id) > (b.created_at, b.id)`);
    await run('CREATE UNIQUE INDEX cart_items_cart_id_product_id_key ON cart_items (cart_id, product_id)');
    await run('ALTER TABLE cart_items DROP COLUMN variant_id');
    await run('DROP INDEX products_listed_facets_idx');
    await run('ALTER TABLE products DROP COLUMN price_max');
    await run('ALTER TABLE products DROP COLUMN option_values');
    await run('ALTER TABLE products DROP COLUMN options');
    await run('ALTER TABLE products ADD COLUMN low_stock_alerted_at timestamptz');
    await run("UPDATE products SET sku = 'P-' || left(id::text, 8) WHERE sku IS NULL");
    await run('ALTER TABLE products ALTER COLUMN sku SET NOT NULL');
    // Variants of one product that shared a SKU with another product of the seller: keep the SKU unique again.
    await run(`UPDATE products p SET sku = left(p.sku, 90) || '-' || left(p.id::text, 8)
                WHERE p.deleted_at IS NULL AND EXISTS (SELECT 1 FROM products o WHERE o.seller_id = p.seller_id AND o.sku = p.sku AND o.deleted_at IS NULL AND o.id < p.id)`);
    await run('CREATE UNIQUE INDEX products_seller_id_sku_key ON products (seller_id, sku) WHERE deleted_at IS NULL');
    await run('DROP TABLE product_variants');
  });
};
