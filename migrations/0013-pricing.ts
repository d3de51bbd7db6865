import type { MigrationFn } from '../src/platform/db/migrator';

/**
 * Pricing: shipping rates per seller, tax rates by destination, promotion codes, and the figures
 * an order keeps of them.
 * - `shipping_rates`: a seller's rates (countries or '*', price, free-over threshold, days).
 * - `tax_rates`: one per country and state (NULLS NOT DISTINCT: one country-wide rate).
 * - `promotions` (seller_id null: the platform's) with `used_count` held under `usage_limit` by
 *   a CHECK, and `promotion_uses`: the use each order took (released once when an unpaid order
 *   is cancelled or expires).
 * - `carts.promo_code`: the one code a cart carries.
 * - `orders`: the promotion, who funds its discount, the tax rate applied and whether prices
 *   included tax (the total's CHECK depends on it).
 * - `order_items`: each line's discount and tax, `seller_amount` (what the seller is credited:
 *   the money rules' line total), `paid_amount` (what the customer paid for it) and
 *   `paid_refunded` (of that, refunded); `refunded_amount` stays the refunded part of
 *   `seller_amount`.
 * - `order_shipping`: the shipping of each seller of an order, with the same figures.
 * - ledger entries of type `shipping`: shipping credited to a seller (positive) and taken back
 *   with a refund (negative), attached to one of that seller's lines of the order.
 * - `sales_days`: tax, shipping credited and discounts by funder, in place of tax_shipping.
 * Orders placed before this keep their figures: each line's tax is its share of the order's tax,
 * and their flat shipping, which no seller was credited, is recorded as the platform's
 * (seller_amount 0) on the order's first seller.
 */
export const up: MigrationFn = async ({ context: { sequelize } }) => {
  // New enum values cannot be used in the transaction that adds them; they are added first.
  await sequelize.query(`ALTER TYPE enum_seller_ledger_entries_type ADD VALUE IF NOT EXISTS 'shipping'`);
  await sequelize.transaction(async (transaction) => {
    const run = (sql: string) => sequelize.query(sql, { transaction });
    await run(`CREATE TABLE shipping_rates (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  seller_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  name varchar(100) NOT NULL,
  countries varchar(2)[] NOT NULL CONSTRAINT shipping_rates_countries_check CHECK (cardinality(countries) BETWEEN 1 AND 250),
  price numeric(10,2) NOT NULL CONSTRAINT shipping_rates_price_check CHECK (price >= 0),
  free_over numeric(10,2) CONSTRAINT shipping_rates_free_over_check CHECK (free_over >= 0),
  estimated_days integer CONSTRAINT shipping_rates_estimated_days_check CHECK (estimated_days BETWEEN 0 AND 365),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
)`);
    await run('CREATE INDEX shipping_rates_seller_id_price_idx ON shipping_rates (seller_id, price)');

    await run(`CREATE TABLE tax_rates (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  country char(2) NOT NULL CONSTRAINT tax_rates_country_check CHECK (country = upper(country)),
  state varchar(100) CONSTRAINT tax_rates_state_check CHECK (state = upper(state)),
  rate numeric(5,4) NOT NULL CONSTRAINT tax_rates_rate_check CHECK (rate >= 0 AND rate <= 1),
  name varchar(100) NOT NULL,
  applies_to_shipping boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
)`);
    await run('CREATE UNIQUE INDEX tax_rates_country_state_key ON tax_rates (country, state) NULLS NOT DISTINCT');

    await run(`CREATE TYPE enum_promotions_type AS ENUM ('percentage', 'fixed', 'free_shipping')`);
    await run(`CREATE TABLE promotions (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  code varchar(50) NOT NULL CONSTRAINT promotions_code_check CHECK (code = upper(code)),
  seller_id uuid REFERENCES users (id) ON DELETE CASCADE,
  type enum_promotions_type NOT NULL,
  value numeric(10,2),
  min_subtotal numeric(10,2) CONSTRAINT promotions_min_subtotal_check CHECK (min_subtotal >= 0),
  starts_at timestamptz,
  ends_at timestamptz,
  usage_limit integer CONSTRAINT promotions_usage_limit_check CHECK (usage_limit > 0),
  usage_limit_per_customer integer CONSTRAINT promotions_usage_limit_per_customer_check CHECK (usage_limit_per_customer > 0),
  product_ids uuid[],
  category_ids uuid[],
  active boolean NOT NULL DEFAULT true,
  used_count integer NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT promotions_value_check CHECK (
    (type = 'percentage' AND value > 0 AND value <= 100) OR (type = 'fixed' AND value > 0) OR (type = 'free_shipping' AND value IS NULL)),
  CONSTRAINT promotions_window_check CHECK (ends_at > starts_at),
  -- The use a checkout takes is one conditional UPDATE; this is the database's word that no limit is passed.
  CONSTRAINT promotions_used_count_check CHECK (used_count >= 0 AND (usage_limit IS NULL OR used_count <= usage_limit))
)`);
    await run('CREATE UNIQUE INDEX promotions_code_key ON promotions (code)');
    await run('CREATE INDEX promotions_seller_id_created_at_idx ON promotions (seller_id, created_at)');

    await run(`ALTER TABLE carts ADD COLUMN promo_code varchar(50)`);

    await run(`CREATE TYPE enum_orders_discount_funded_by AS ENUM ('platform', 'seller')`);
    await run(`ALTER TABLE orders
  ADD COLUMN promotion_id uuid REFERENCES promotions (id) ON DELETE SET NULL,
  ADD COLUMN promotion_code varchar(50),
  ADD COLUMN discount_funded_by enum_orders_discount_funded_by,
  ADD COLUMN tax_rate numeric(5,4) NOT NULL DEFAULT 0 CONSTRAINT orders_tax_rate_check CHECK (tax_rate >= 0 AND tax_rate <= 1),
  ADD COLUMN prices_include_tax boolean NOT NULL DEFAULT false`);
    await run(`CREATE INDEX orders_promotion_id_idx ON orders (promotion_id) WHERE promotion_id IS NOT NULL`);
    await run('ALTER TABLE orders DROP CONSTRAINT orders_total_check');
    await run(`ALTER TABLE orders ADD CONSTRAINT orders_total_check
  CHECK (total_amount = subtotal + CASE WHEN prices_include_tax THEN 0 ELSE tax_amount END + shipping_amount - discount_amount)`);

    await run(`CREATE TABLE promotion_uses (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  promotion_id uuid NOT NULL REFERENCES promotions (id) ON DELETE CASCADE,
  order_id uuid NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  released_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
)`);
    // An order takes one use; the per-customer limit counts a customer's uses not given back.
    await run('CREATE UNIQUE INDEX promotion_uses_order_id_key ON promotion_uses (order_id)');
    await run('CREATE INDEX promotion_uses_promotion_id_user_id_idx ON promotion_uses (promotion_id, user_id) WHERE released_at IS NULL');

    await run(`ALTER TABLE order_items
  ADD COLUMN discount_amount numeric(14,2) NOT NULL DEFAULT 0,
  ADD COLUMN tax_amount numeric(14,2) NOT NULL DEFAULT 0 CONSTRAINT order_items_tax_amount_check CHECK (tax_amount >= 0),
  ADD COLUMN seller_amount numeric(14,2),
  ADD COLUMN paid_amount numeric(14,2),
  ADD COLUMN paid_refunded numeric(14,2) NOT NULL DEFAULT 0`);
    // Lines of earlier orders: their share of the order's tax (the last line takes the cents rounding leaves).
    await run(`UPDATE order_items oi SET tax_amount = s.tax
  FROM (SELECT oi.id,
               CASE WHEN row_number() OVER w = count(*) OVER (PARTITION BY oi.order_id)
                    THEN o.tax_amount - coalesce(sum(round(o.tax_amount * oi.line_total / nullif(o.subtotal, 0), 2)) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)
                    ELSE round(o.tax_amount * oi.line_total / nullif(o.subtotal, 0), 2) END AS tax
          FROM order_items oi JOIN orders o ON o.id = oi.order_id
        WINDOW w AS (PARTITION BY oi.order_id ORDER BY oi.created_at, oi.id)) s
 WHERE s.id = oi.id AND s.tax IS NOT NULL`);
    await run(`UPDATE order_items SET seller_amount = line_total, paid_amount = line_total + tax_amount,
  paid_refunded = CASE WHEN line_total = 0 THEN 0 ELSE round(refunded_amount * (line_total + tax_amount) / line_total, 2) END`);
    await run(`ALTER TABLE order_items
  ALTER COLUMN seller_amount SET NOT NULL, ALTER COLUMN paid_amount SET NOT NULL,
  DROP CONSTRAINT order_items_refunded_amount_check,
  ADD CONSTRAINT order_items_discount_amount_check CHECK (discount_amount >= 0 AND discount_amount <= line_total),
  ADD CONSTRAINT order_items_seller_amount_check CHECK (seller_amount >= 0 AND seller_amount <= line_total),
  ADD CONSTRAINT order_items_paid_amount_check CHECK (paid_amount >= 0),
  ADD CONSTRAINT order_items_refunded_amount_check CHECK (refunded_amount >= 0 AND refunded_amount <= seller_amount),
  ADD CONSTRAINT order_items_paid_refunded_check CHECK (paid_refunded >= 0 AND paid_refunded <= paid_amount)`);
    // The statistics sum what sellers are credited now: the figures index carries it in place of the line total.
    await run('DROP INDEX order_items_order_id_figures_idx');
    await run(`CREATE INDEX order_items_order_id_figures_idx ON order_items (order_id)
  INCLUDE (seller_id, product_id, quantity, seller_amount, refunded_amount, commission_rate)`);

    await run(`CREATE TABLE order_shipping (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  order_id uuid NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
  seller_id uuid NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
  rate_id uuid REFERENCES shipping_rates (id) ON DELETE SET NULL,
  name varchar(100) NOT NULL,
  estimated_days integer,
  amount numeric(10,2) NOT NULL CONSTRAINT order_shipping_amount_check CHECK (amount >= 0),
  discount_amount numeric(10,2) NOT NULL DEFAULT 0,
  tax_amount numeric(10,2) NOT NULL DEFAULT 0 CONSTRAINT order_shipping_tax_amount_check CHECK (tax_amount >= 0),
  seller_amount numeric(10,2) NOT NULL,
  paid_amount numeric(10,2) NOT NULL CONSTRAINT order_shipping_paid_amount_check CHECK (paid_amount >= 0),
  paid_refunded numeric(10,2) NOT NULL DEFAULT 0,
  refunded_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT order_shipping_discount_amount_check CHECK (discount_amount >= 0 AND discount_amount <= amount),
  CONSTRAINT order_shipping_seller_amount_check CHECK (seller_amount >= 0 AND seller_amount <= amount),
  CONSTRAINT order_shipping_paid_refunded_check CHECK (paid_refunded >= 0 AND paid_refunded <= paid_amount)
)`);
    await run('CREATE UNIQUE INDEX order_shipping_order_id_seller_id_key ON order_shipping (order_id, seller_id)');
    await run(`INSERT INTO order_shipping (order_id, seller_id, name, amount, seller_amount, paid_amount, paid_refunded, created_at)
  SELECT o.id, (SELECT oi.seller_id FROM order_items oi WHERE oi.order_id = o.id ORDER BY oi.created_at, oi.id LIMIT 1), 'Standard',
         o.shipping_amount, 0, o.shipping_amount,
         CASE WHEN o.payment_status = 'refunded' THEN o.shipping_amount ELSE 0 END, o.created_at
    FROM orders o
   WHERE o.shipping_amount > 0 AND EXISTS (SELECT 1 FROM order_items oi WHERE oi.order_id = o.id)`);

    await run(`ALTER TABLE seller_ledger_entries DROP CONSTRAINT seller_ledger_entries_sign_check`);
    await run(`ALTER TABLE seller_ledger_entries ADD CONSTRAINT seller_ledger_entries_sign_check CHECK (
    (type = 'sale' AND amount >= 0) OR (type = 'refund' AND amount <= 0) OR (type = 'payout' AND amount <= 0)
    OR (type = 'dispute' AND amount <= 0 AND dispute_id IS NOT NULL) OR type = 'commission' OR type = 'shipping')`);

    await run(`ALTER TABLE sales_days
  ADD COLUMN tax numeric(16,2) NOT NULL DEFAULT 0,
  ADD COLUMN shipping numeric(16,2) NOT NULL DEFAULT 0,
  ADD COLUMN platform_discount numeric(16,2) NOT NULL DEFAULT 0,
  ADD COLUMN seller_discount numeric(16,2) NOT NULL DEFAULT 0`);
    await run(`UPDATE sales_days d SET tax = s.tax
  FROM (SELECT (paid_at AT TIME ZONE 'UTC')::date AS day, sum(tax_amount) AS tax FROM orders
         WHERE paid_at IS NOT NULL AND payment_status IN ('paid', 'partially_refunded', 'refunded') GROUP BY 1) s
 WHERE s.day = d.day`);
    await run('ALTER TABLE sales_days DROP COLUMN tax_shipping');
  });
};

export const down: MigrationFn = async ({ context: { sequelize } }) => {
  await sequelize.transaction(async (transaction) => {
    const run = (sql: string) => sequelize.query(sql, { transaction });
    await run(`ALTER TABLE sales_days ADD COLUMN tax_shipping numeric(16,2) NOT NULL DEFAULT 0`);
    await run(`UPDATE sales_days d SET tax_shipping = s.tax_shipping
  FROM (SELECT (paid_at AT TIME ZONE 'UTC')::date AS day, sum(tax_amount + shipping_amount) AS tax_shipping FROM orders
         WHERE paid_at IS NOT NULL AND payment_status IN ('paid', 'partially_refunded', 'refunded') GROUP BY 1) s
 WHERE s.day = d.day`);
    await run('ALTER TABLE sales_days DROP COLUMN tax, DROP COLUMN shipping, DROP COLUMN platform_discount, DROP COLUMN seller_discount');
    await run(`DELETE FROM seller_ledger_entries WHERE type = 'shipping'`);
    await run(`ALTER TABLE seller_ledger_entries DROP CONSTRAINT seller_ledger_entries_sign_check`);
    await run(`ALTER TABLE seller_ledger_entries ADD CONSTRAINT seller_ledger_entries_sign_check CHECK (
    (type = 'sale' AND amount >= 0) OR (type = 'refund' AND amount <= 0) OR (type = 'payout' AND amount <= 0)
    OR (type = 'dispute' AND amount <= 0 AND dispute_id IS NOT NULL) OR type = 'commission')`);
    await run('DROP TABLE order_shipping');
    await run('DROP INDEX order_items_order_id_figures_idx');
    await run(`CREATE INDEX order_items_order_id_figures_idx ON order_items (order_id)
  INCLUDE (seller_id, product_id, quantity, line_total, refunded_amount, commission_rate)`);
    // Refunds are kept in the seller's terms; a line's customer-side figures go with the columns.
    await run(`ALTER TABLE order_items
  DROP CONSTRAINT order_items_refunded_amount_check,
  DROP COLUMN discount_amount, DROP COLUMN tax_amount, DROP COLUMN seller_amount, DROP COLUMN paid_amount, DROP COLUMN paid_refunded`);
    await run(`ALTER TABLE order_items ADD CONSTRAINT order_items_refunded_amount_check CHECK (refunded_amount >= 0 AND refunded_amount <= line_total)`);
    await run('DROP TABLE promotion_uses');
    await run('ALTER TABLE orders DROP CONSTRAINT orders_total_check');
    await run(`ALTER TABLE orders DROP COLUMN promotion_id, DROP COLUMN promotion_code, DROP COLUMN discount_funded_by, DROP COLUMN tax_rate, DROP COLUMN prices_include_tax`);
    await run(`ALTER TABLE orders ADD CONSTRAINT orders_total_check CHECK (total_amount = subtotal + tax_amount + shipping_amount - discount_amount)`);
    await run('DROP TYPE enum_orders_discount_funded_by');
    await run('ALTER TABLE carts DROP COLUMN promo_code');
    await run('DROP TABLE promotions');
    await run('DROP TYPE enum_promotions_type');
    await run('DROP TABLE tax_rates');
    await run('DROP TABLE shipping_rates');
    // PostgreSQL cannot drop an enum value: 'shipping' stays, unused.
  });
};
