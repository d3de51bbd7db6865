import type { MigrationFn } from '../src/platform/db/migrator';

/**
 * The initial schema. The database holds the invariants (NOT NULL, CHECK, UNIQUE, FK); every
 * index here is also declared, under the same name, on its model in src/models.
 * Enum types carry the names Sequelize gives them: enum_<table>_<column>.
 * Unique constraints are unique indexes named <table>_<columns>_key; other indexes
 * <table>_<columns>_idx.
 */

const ORDER_STATUS_VALUES = `'pending', 'confirmed', 'processing', 'shipped', 'delivered', 'cancelled', 'refunded'`;

const ENUM_TYPES: Record<string, string> = {
  enum_users_role: `'customer', 'seller', 'admin'`,
  enum_users_status: `'pending', 'approved', 'rejected', 'suspended'`,
  enum_products_status: `'draft', 'active', 'inactive', 'out_of_stock'`,
  enum_orders_status: ORDER_STATUS_VALUES,
  enum_orders_payment_status: `'unpaid', 'paid', 'partially_refunded', 'refunded'`,
  enum_orders_payment_provider: `'stripe', 'manual'`,
  enum_order_items_fulfillment_status: `'unfulfilled', 'shipped', 'delivered', 'cancelled', 'refunded'`,
  enum_order_status_history_from_status: ORDER_STATUS_VALUES,
  enum_order_status_history_to_status: ORDER_STATUS_VALUES,
  enum_order_status_history_actor_role: `'customer', 'seller', 'admin', 'system'`,
  enum_transactions_type: `'payment', 'refund'`,
  enum_transactions_provider: `'stripe', 'manual'`,
  enum_transactions_status: `'pending', 'succeeded', 'failed', 'canceled'`,
  enum_refunds_status: `'pending', 'succeeded', 'failed'`,
  enum_seller_payouts_status: `'pending', 'paid', 'cancelled'`,
  enum_webhook_events_status: `'received', 'processed', 'failed'`,
  enum_uploads_provider: `'local', 'cloudinary'`,
};

/** In creation order; dropped in reverse. */
const TABLES = [
  'users',
  'seller_profiles',
  'categories',
  'products',
  'carts',
  'cart_items',
  'seller_payouts',
  'orders',
  'order_items',
  'order_status_history',
  'transactions',
  'refunds',
  'reviews',
  'user_sessions',
  'webhook_events',
  'idempotency_keys',
  'uploads',
];

const TIMESTAMPS = `
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()`;

/** The rows the public catalog lists: the partial indexes of its sorts cover exactly these. */
const LISTED = `status = 'active' AND deleted_at IS NULL`;

const SCHEMA = [
  `CREATE TABLE users (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  email varchar(255) NOT NULL CONSTRAINT users_email_normalized_check CHECK (email = lower(btrim(email))),
  password varchar(255) NOT NULL,
  name varchar(100) NOT NULL,
  role enum_users_role NOT NULL DEFAULT 'customer',
  status enum_users_status NOT NULL DEFAULT 'approved',
  avatar_url varchar(500),
  email_verified boolean NOT NULL DEFAULT false,
  email_verification_token varchar(64),
  email_verification_expires timestamptz,
  password_reset_token varchar(64),
  password_reset_expires timestamptz,
  password_changed_at timestamptz,
  last_login_at timestamptz,
  suspended_reason text,${TIMESTAMPS}
)`,
  `CREATE UNIQUE INDEX users_email_key ON users (email)`,
  `CREATE INDEX users_role_status_idx ON users (role, status)`,
  `CREATE INDEX users_email_verification_token_idx ON users (email_verification_token)
  WHERE email_verification_token IS NOT NULL`,
  `CREATE INDEX users_password_reset_token_idx ON users (password_reset_token)
  WHERE password_reset_token IS NOT NULL`,

  `CREATE TABLE seller_profiles (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  store_name varchar(100) NOT NULL,
  store_slug varchar(120) NOT NULL,
  store_description text,
  logo_url varchar(500),
  payout_details jsonb,
  commission_rate numeric(5,4) CONSTRAINT seller_profiles_commission_rate_check
    CHECK (commission_rate >= 0 AND commission_rate <= 1),
  approved_at timestamptz,
  approved_by uuid REFERENCES users (id) ON DELETE SET NULL,
  rejected_at timestamptz,
  rejection_reason text,${TIMESTAMPS}
)`,
  `CREATE UNIQUE INDEX seller_profiles_user_id_key ON seller_profiles (user_id)`,
  `CREATE UNIQUE INDEX seller_profiles_store_slug_key ON seller_profiles (store_slug)`,

  `CREATE TABLE categories (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name varchar(100) NOT NULL,
  slug varchar(120) NOT NULL,
  description text,
  parent_id uuid REFERENCES categories (id) ON DELETE RESTRICT,
  image_url varchar(500),
  sort_order integer NOT NULL DEFAULT 0,
  is_active boolean NOT NULL DEFAULT true,${TIMESTAMPS},
  CONSTRAINT categories_not_own_parent_check CHECK (parent_id <> id)
)`,
  `CREATE UNIQUE INDEX categories_slug_key ON categories (slug)`,
  `CREATE INDEX categories_parent_id_idx ON categories (parent_id)`,

  `CREATE TABLE products (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  seller_id uuid NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
  category_id uuid REFERENCES categories (id) ON DELETE SET NULL,
  name varchar(255) NOT NULL,
  slug varchar(280) NOT NULL,
  description text,
  short_description varchar(500),
  price numeric(10,2) NOT NULL CONSTRAINT products_price_check CHECK (price > 0),
  compare_price numeric(10,2),
  cost_price numeric(10,2) CONSTRAINT products_cost_price_check CHECK (cost_price >= 0),
  sku varchar(100) NOT NULL,
  stock_quantity integer NOT NULL DEFAULT 0 CONSTRAINT products_stock_quantity_check CHECK (stock_quantity >= 0),
  low_stock_threshold integer NOT NULL DEFAULT 10
    CONSTRAINT products_low_stock_threshold_check CHECK (low_stock_threshold >= 0),
  weight numeric(8,2) CONSTRAINT products_weight_check CHECK (weight >= 0),
  dimensions jsonb,
  images jsonb NOT NULL DEFAULT '[]' CONSTRAINT products_images_check CHECK (jsonb_typeof(images) = 'array'),
  status enum_products_status NOT NULL DEFAULT 'draft',
  seo_title varchar(255),
  seo_description varchar(500),
  tags jsonb NOT NULL DEFAULT '[]' CONSTRAINT products_tags_check CHECK (jsonb_typeof(tags) = 'array'),
  view_count integer NOT NULL DEFAULT 0 CONSTRAINT products_view_count_check CHECK (view_count >= 0),
  average_rating numeric(3,2) NOT NULL DEFAULT 0
    CONSTRAINT products_average_rating_check CHECK (average_rating >= 0 AND average_rating <= 5),
  review_count integer NOT NULL DEFAULT 0 CONSTRAINT products_review_count_check CHECK (review_count >= 0),
  search_vector tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('english'::regconfig, coalesce(name, '')), 'A') ||
    setweight(to_tsvector('english'::regconfig, coalesce(short_description, '')), 'B') ||
    setweight(jsonb_to_tsvector('english'::regconfig, tags, '["string"]'), 'C') ||
    setweight(to_tsvector('english'::regconfig, coalesce(description, '')), 'D')
  ) STORED,${TIMESTAMPS},
  deleted_at timestamptz,
  CONSTRAINT products_compare_price_check CHECK (compare_price > price)
)`,
  `CREATE UNIQUE INDEX products_slug_key ON products (slug)`,
  // Per seller, among live products: two sellers may use the same SKU, and a deleted product's
  // SKU can be reused.
  `CREATE UNIQUE INDEX products_seller_id_sku_key ON products (seller_id, sku) WHERE deleted_at IS NULL`,
  `CREATE INDEX products_search_vector_idx ON products USING gin (search_vector)`,
  `CREATE INDEX products_tags_idx ON products USING gin (tags jsonb_path_ops)`,
  `CREATE INDEX products_seller_id_status_idx ON products (seller_id, status)`,
  `CREATE INDEX products_category_id_status_idx ON products (category_id, status)`,
  `CREATE INDEX products_price_idx ON products (price)`,
  `CREATE INDEX products_stock_quantity_idx ON products (stock_quantity)`,
  `CREATE INDEX products_status_created_at_idx ON products (status, created_at)`,
  `CREATE INDEX products_listed_created_at_idx ON products (created_at DESC) WHERE ${LISTED}`,
  `CREATE INDEX products_listed_price_idx ON products (price) WHERE ${LISTED}`,
  `CREATE INDEX products_listed_average_rating_idx ON products (average_rating DESC) WHERE ${LISTED}`,
  `CREATE INDEX products_listed_view_count_idx ON products (view_count DESC) WHERE ${LISTED}`,
  `CREATE INDEX products_listed_name_idx ON products (name) WHERE ${LISTED}`,
  `CREATE INDEX products_listed_category_id_price_idx ON products (category_id, price) WHERE ${LISTED}`,

  `CREATE TABLE carts (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id uuid REFERENCES users (id) ON DELETE CASCADE,
  token_hash varchar(64),
  expires_at timestamptz,${TIMESTAMPS},
  CONSTRAINT carts_owner_check CHECK (user_id IS NOT NULL OR token_hash IS NOT NULL)
)`,
  `CREATE UNIQUE INDEX carts_user_id_key ON carts (user_id)`,
  `CREATE UNIQUE INDEX carts_token_hash_key ON carts (token_hash)`,

  `CREATE TABLE cart_items (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  cart_id uuid NOT NULL REFERENCES carts (id) ON DELETE CASCADE,
  product_id uuid NOT NULL REFERENCES products (id) ON DELETE CASCADE,
  quantity integer NOT NULL CONSTRAINT cart_items_quantity_check CHECK (quantity BETWEEN 1 AND 1000),${TIMESTAMPS}
)`,
  `CREATE UNIQUE INDEX cart_items_cart_id_product_id_key ON cart_items (cart_id, product_id)`,
  `CREATE INDEX cart_items_product_id_idx ON cart_items (product_id)`,

  `CREATE TABLE seller_payouts (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  seller_id uuid NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
  period_start timestamptz NOT NULL,
  period_end timestamptz NOT NULL,
  gross_amount numeric(10,2) NOT NULL CONSTRAINT seller_payouts_gross_amount_check CHECK (gross_amount >= 0),
  commission_amount numeric(10,2) NOT NULL
    CONSTRAINT seller_payouts_commission_amount_check CHECK (commission_amount >= 0),
  refund_amount numeric(10,2) NOT NULL CONSTRAINT seller_payouts_refund_amount_check CHECK (refund_amount >= 0),
  net_amount numeric(10,2) NOT NULL CONSTRAINT seller_payouts_net_amount_check CHECK (net_amount >= 0),
  currency char(3) NOT NULL,
  status enum_seller_payouts_status NOT NULL DEFAULT 'pending',
  paid_at timestamptz,
  reference varchar(255),
  item_count integer NOT NULL DEFAULT 0 CONSTRAINT seller_payouts_item_count_check CHECK (item_count >= 0),${TIMESTAMPS},
  CONSTRAINT seller_payouts_period_check CHECK (period_end > period_start),
  CONSTRAINT seller_payouts_net_check CHECK (net_amount = gross_amount - commission_amount - refund_amount)
)`,
  `CREATE UNIQUE INDEX seller_payouts_seller_id_period_start_period_end_key
  ON seller_payouts (seller_id, period_start, period_end)`,
  `CREATE INDEX seller_payouts_status_created_at_idx ON seller_payouts (status, created_at)`,

  `CREATE TABLE orders (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  order_number varchar(32) NOT NULL,
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
  status enum_orders_status NOT NULL DEFAULT 'pending',
  payment_status enum_orders_payment_status NOT NULL DEFAULT 'unpaid',
  payment_provider enum_orders_payment_provider,
  payment_intent_id varchar(255),
  currency char(3) NOT NULL DEFAULT 'usd',
  subtotal numeric(10,2) NOT NULL CONSTRAINT orders_subtotal_check CHECK (subtotal >= 0),
  tax_amount numeric(10,2) NOT NULL DEFAULT 0 CONSTRAINT orders_tax_amount_check CHECK (tax_amount >= 0),
  shipping_amount numeric(10,2) NOT NULL DEFAULT 0
    CONSTRAINT orders_shipping_amount_check CHECK (shipping_amount >= 0),
  discount_amount numeric(10,2) NOT NULL DEFAULT 0
    CONSTRAINT orders_discount_amount_check CHECK (discount_amount >= 0),
  total_amount numeric(10,2) NOT NULL CONSTRAINT orders_total_amount_check CHECK (total_amount >= 0),
  amount_paid numeric(10,2) NOT NULL DEFAULT 0 CONSTRAINT orders_amount_paid_check CHECK (amount_paid >= 0),
  amount_refunded numeric(10,2) NOT NULL DEFAULT 0
    CONSTRAINT orders_amount_refunded_check CHECK (amount_refunded >= 0),
  shipping_address jsonb NOT NULL,
  billing_address jsonb,
  notes text,
  internal_notes text,
  tracking_number varchar(100),
  tracking_url varchar(500),
  disputed boolean NOT NULL DEFAULT false,
  expires_at timestamptz,
  paid_at timestamptz,
  shipped_at timestamptz,
  delivered_at timestamptz,
  cancelled_at timestamptz,
  cancellation_reason text,
  refunded_at timestamptz,${TIMESTAMPS},
  CONSTRAINT orders_total_check
    CHECK (total_amount = subtotal + tax_amount + shipping_amount - discount_amount),
  CONSTRAINT orders_refund_within_paid_check CHECK (amount_refunded <= amount_paid)
)`,
  `CREATE UNIQUE INDEX orders_order_number_key ON orders (order_number)`,
  `CREATE UNIQUE INDEX orders_payment_intent_id_key ON orders (payment_intent_id)`,
  `CREATE INDEX orders_user_id_created_at_idx ON orders (user_id, created_at DESC)`,
  `CREATE INDEX orders_status_created_at_idx ON orders (status, created_at)`,
  `CREATE INDEX orders_created_at_idx ON orders (created_at)`,
  // The expiry job's scan: pending orders past their payment deadline.
  `CREATE INDEX orders_pending_expires_at_idx ON orders (expires_at) WHERE status = 'pending'`,

  `CREATE TABLE order_items (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  order_id uuid NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
  product_id uuid REFERENCES products (id) ON DELETE SET NULL,
  seller_id uuid NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
  product_name varchar(255) NOT NULL,
  product_sku varchar(100) NOT NULL,
  product_image varchar(500),
  unit_price numeric(10,2) NOT NULL CONSTRAINT order_items_unit_price_check CHECK (unit_price >= 0),
  quantity integer NOT NULL CONSTRAINT order_items_quantity_check CHECK (quantity > 0),
  line_total numeric(10,2) NOT NULL,
  refunded_amount numeric(10,2) NOT NULL DEFAULT 0,
  fulfillment_status enum_order_items_fulfillment_status NOT NULL DEFAULT 'unfulfilled',
  tracking_number varchar(100),
  tracking_url varchar(500),
  shipped_at timestamptz,
  delivered_at timestamptz,
  payout_id uuid REFERENCES seller_payouts (id) ON DELETE SET NULL,${TIMESTAMPS},
  CONSTRAINT order_items_line_total_check CHECK (line_total = unit_price * quantity),
  CONSTRAINT order_items_refunded_amount_check CHECK (refunded_amount >= 0 AND refunded_amount <= line_total)
)`,
  `CREATE INDEX order_items_order_id_idx ON order_items (order_id)`,
  `CREATE INDEX order_items_seller_id_created_at_idx ON order_items (seller_id, created_at)`,
  `CREATE INDEX order_items_product_id_idx ON order_items (product_id)`,
  `CREATE INDEX order_items_payout_id_idx ON order_items (payout_id)`,

  `CREATE TABLE order_status_history (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  order_id uuid NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
  from_status enum_order_status_history_from_status,
  to_status enum_order_status_history_to_status NOT NULL,
  note text,
  actor_id uuid REFERENCES users (id) ON DELETE SET NULL,
  actor_role enum_order_status_history_actor_role NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
)`,
  `CREATE INDEX order_status_history_order_id_created_at_idx ON order_status_history (order_id, created_at)`,

  `CREATE TABLE transactions (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  order_id uuid NOT NULL REFERENCES orders (id) ON DELETE RESTRICT,
  type enum_transactions_type NOT NULL,
  provider enum_transactions_provider NOT NULL,
  provider_reference varchar(255),
  amount numeric(10,2) NOT NULL CONSTRAINT transactions_amount_check CHECK (amount >= 0),
  currency char(3) NOT NULL,
  status enum_transactions_status NOT NULL DEFAULT 'pending',
  failure_reason text,
  metadata jsonb,
  recorded_by uuid REFERENCES users (id) ON DELETE SET NULL,${TIMESTAMPS}
)`,
  `CREATE INDEX transactions_order_id_idx ON transactions (order_id)`,
  `CREATE INDEX transactions_status_created_at_idx ON transactions (status, created_at)`,
  `CREATE UNIQUE INDEX transactions_provider_type_provider_reference_key
  ON transactions (provider, type, provider_reference) WHERE provider_reference IS NOT NULL`,

  `CREATE TABLE refunds (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  order_id uuid NOT NULL REFERENCES orders (id) ON DELETE RESTRICT,
  transaction_id uuid REFERENCES transactions (id) ON DELETE RESTRICT,
  amount numeric(10,2) NOT NULL CONSTRAINT refunds_amount_check CHECK (amount > 0),
  reason text,
  status enum_refunds_status NOT NULL DEFAULT 'pending',
  provider_refund_id varchar(255),
  restock boolean NOT NULL DEFAULT false,
  created_by uuid REFERENCES users (id) ON DELETE SET NULL,${TIMESTAMPS}
)`,
  `CREATE INDEX refunds_order_id_idx ON refunds (order_id)`,
  `CREATE UNIQUE INDEX refunds_provider_refund_id_key ON refunds (provider_refund_id)`,

  `CREATE TABLE reviews (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  product_id uuid NOT NULL REFERENCES products (id) ON DELETE CASCADE,
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  order_item_id uuid REFERENCES order_items (id) ON DELETE SET NULL,
  rating smallint NOT NULL CONSTRAINT reviews_rating_check CHECK (rating BETWEEN 1 AND 5),
  title varchar(200),
  comment text NOT NULL,
  is_verified_purchase boolean NOT NULL DEFAULT true,${TIMESTAMPS}
)`,
  `CREATE UNIQUE INDEX reviews_product_id_user_id_key ON reviews (product_id, user_id)`,
  `CREATE INDEX reviews_product_id_created_at_idx ON reviews (product_id, created_at DESC)`,
  `CREATE INDEX reviews_product_id_rating_idx ON reviews (product_id, rating)`,

  `CREATE TABLE user_sessions (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  refresh_token_hash varchar(64) NOT NULL,
  user_agent varchar(500),
  ip_address varchar(64),
  expires_at timestamptz NOT NULL,
  last_used_at timestamptz,
  revoked_at timestamptz,
  revoked_reason varchar(50),${TIMESTAMPS}
)`,
  `CREATE UNIQUE INDEX user_sessions_refresh_token_hash_key ON user_sessions (refresh_token_hash)`,
  `CREATE INDEX user_sessions_user_id_idx ON user_sessions (user_id)`,

  `CREATE TABLE webhook_events (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  provider varchar(20) NOT NULL,
  event_id varchar(255) NOT NULL,
  type varchar(100) NOT NULL,
  payload jsonb NOT NULL,
  status enum_webhook_events_status NOT NULL DEFAULT 'received',
  attempts integer NOT NULL DEFAULT 0 CONSTRAINT webhook_events_attempts_check CHECK (attempts >= 0),
  processed_at timestamptz,
  error text,${TIMESTAMPS}
)`,
  `CREATE UNIQUE INDEX webhook_events_provider_event_id_key ON webhook_events (provider, event_id)`,

  `CREATE TABLE idempotency_keys (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  key varchar(255) NOT NULL,
  method varchar(10) NOT NULL,
  path varchar(255) NOT NULL,
  request_hash varchar(64) NOT NULL,
  response_status integer,
  response_body jsonb,
  resource_id uuid,
  locked_at timestamptz,
  expires_at timestamptz NOT NULL,${TIMESTAMPS}
)`,
  `CREATE UNIQUE INDEX idempotency_keys_user_id_key_key ON idempotency_keys (user_id, key)`,
  `CREATE INDEX idempotency_keys_expires_at_idx ON idempotency_keys (expires_at)`,

  `CREATE TABLE uploads (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  public_id varchar(255) NOT NULL,
  url varchar(1000) NOT NULL,
  provider enum_uploads_provider NOT NULL,
  uploader_id uuid REFERENCES users (id) ON DELETE SET NULL,
  bytes integer NOT NULL CONSTRAINT uploads_bytes_check CHECK (bytes >= 0),
  width integer CONSTRAINT uploads_width_check CHECK (width > 0),
  height integer CONSTRAINT uploads_height_check CHECK (height > 0),
  format varchar(20) NOT NULL,${TIMESTAMPS}
)`,
  `CREATE UNIQUE INDEX uploads_public_id_key ON uploads (public_id)`,
];

export const up: MigrationFn = async ({ context: { sequelize } }) => {
  await sequelize.transaction(async (transaction) => {
    for (const [name, values] of Object.entries(ENUM_TYPES)) {
      await sequelize.query(`CREATE TYPE ${name} AS ENUM (${values})`, { transaction });
    }
    for (const statement of SCHEMA) {
      await sequelize.query(statement, { transaction });
    }
  });
};

export const down: MigrationFn = async ({ context: { sequelize } }) => {
  await sequelize.transaction(async (transaction) => {
    for (const table of [...TABLES].reverse()) {
      await sequelize.query(`DROP TABLE ${table}`, { transaction });
    }
    for (const name of Object.keys(ENUM_TYPES)) {
      await sequelize.query(`DROP TYPE ${name}`, { transaction });
    }
  });
};
