import type { Transaction } from 'sequelize';
import { config } from '../../platform/config';
import { queryRows } from '../../platform/db/query';
import { inTransaction, RetryTransactionError } from '../../platform/db/transaction';
import { PUBLIC_PRODUCT_STATUSES, type Address, type ProductStatus } from '../../models';
import { BadRequestError, ConflictError, UnprocessableError } from '../../platform/utils/errors';
import { logger } from '../../platform/utils/logger';
import { fromMinor, toMinor } from '../../platform/utils/money';
import { addressService, type Caller } from '../accounts';
import { recordOrderEvent } from '../webhooks';
import { serializePlacedOrder, type OrderView, type PlacedOrderRow } from './order.serializer';
import { insufficientStock, takeStock, type StockShortfall } from '../catalog';
import crypto from 'node:crypto';
import { promoNotApplicable, type Pricing, type PricingLine } from './pricing';
import { priceFromSources, pricingSourcesColumns, pricingSourcesColumnsBinds, pricingSourcesOf, type PricingSourcesRow } from './pricing-sources';

/**
 * Checkout: a cart becomes an order in one transaction (prices re-read, lines snapshotted, totals
 * from the money rules, stock taken last), once per Idempotency-Key and body.
 */

export interface CheckoutInput {
  /** The address to ship to, or `shippingAddressId` of one of the customer's saved addresses (one of the two). */
  shippingAddress?: Address;
  shippingAddressId?: string;
  billingAddress?: Address | null;
  /** A shipping rate per seller id (default: each seller's cheapest rate to the country). */
  shippingRates?: Record<string, string>;
  notes?: string | null;
}

export interface CheckoutResult {
  order: OrderView;
  /** True when an earlier request with the same Idempotency-Key made this order. */
  replayed: boolean;
}

const IDEMPOTENCY_TTL_HOURS = 24;

// The checkout's statements, named for the benchmark's bare server, which runs the same ones.
/**
 * The cart's row lock, first statement of the checkout's transaction. It also makes the rest of
 * the transaction run its prepared statements on their generic plans: they look rows up by key,
 * and PostgreSQL would otherwise plan the stock statement again at every run (its array binds are
 * estimated exactly only in a custom plan, which then always looks cheaper), about 1 ms of
 * PostgreSQL's time per order. The setting ends with the transaction.
 */
export const LOCK_CART = `SELECT id, promo_code, set_config('plan_cache_mode', 'force_generic_plan', true) AS plans
  FROM carts WHERE user_id = $userId FOR UPDATE`;

/**
 * The cart's lines with their current prices, sorted by variant id, and on the first line the
 * pricing sources of those lines' sellers for the destination (`$country`, `$state`) and the cart's
 * code (`$code`): PRICING_SOURCES' columns, null on the other lines (their binds:
 * `pricingSourcesColumnsBinds`, `$userId` the customer's). One round trip, and one snapshot for
 * what the order is priced from.
 */
export const CART_LINES_AND_SOURCES = `
WITH lines AS (
  SELECT ci.id AS item_id, ci.product_id, ci.variant_id, ci.quantity, p.name, v.title AS variant_title, v.sku,
         coalesce(v.images->>0, p.images->>0) AS image, v.price, p.seller_id, p.category_id, p.status, p.deleted_at,
         v.status AS variant_status, v.deleted_at AS variant_deleted_at, v.stock_quantity,
         coalesce(sp.commission_rate, $defaultRate::numeric(5,4)) AS commission_rate,
         row_number() OVER (ORDER BY ci.variant_id) AS line_number
    FROM carts c
    JOIN cart_items ci ON ci.cart_id = c.id
    JOIN products p ON p.id = ci.product_id
    JOIN product_variants v ON v.id = ci.variant_id
    LEFT JOIN seller_profiles sp ON sp.user_id = p.seller_id
   WHERE c.user_id = $userId
), sources AS (
  SELECT ${pricingSourcesColumns('ARRAY(SELECT DISTINCT seller_id FROM lines)')}
)
SELECT l.*, CASE WHEN l.line_number = 1 THEN s.rates END AS rates, CASE WHEN l.line_number = 1 THEN s.tax END AS tax,
       CASE WHEN l.line_number = 1 THEN s.promotion END AS promotion
  FROM lines l CROSS JOIN sources s
 ORDER BY l.line_number`;

export const PLACE_ORDER = `
WITH placed AS (
  INSERT INTO orders (order_number, user_id, currency, subtotal, tax_amount, shipping_amount, discount_amount, total_amount,
                      promotion_id, promotion_code, discount_funded_by, tax_rate, prices_include_tax,
                      shipping_address, billing_address, notes, expires_at)
  VALUES ($orderNumber, $userId, $currency, $subtotal, $tax, $shipping, $discount, $total,
          $promotionId::uuid, $promotionCode, $fundedBy::enum_orders_discount_funded_by, $taxRate, $pricesIncludeTax,
          $shippingAddress::jsonb, $billingAddress::jsonb, $notes, now() + make_interval(mins => $timeout::int))
  ON CONFLICT (order_number) DO NOTHING
  RETURNING *
), lines AS (
  INSERT INTO order_items (order_id, product_id, variant_id, seller_id, product_name, variant_title, product_sku, product_image, unit_price, quantity,
                           line_total, discount_amount, tax_amount, seller_amount, paid_amount, commission_rate)
  SELECT placed.id, u.product_id, u.variant_id, u.seller_id, u.name, u.title, u.sku, u.image, u.price, u.quantity, u.price * u.quantity,
         u.discount, u.tax, u.seller_amount, u.paid_amount, u.rate
    FROM placed,
         unnest($productIds::uuid[], $variantIds::uuid[], $sellerIds::uuid[], $names::text[], $titles::text[], $skus::text[], $images::text[],
                $prices::numeric[], $quantities::int[], $discounts::numeric[], $taxes::numeric[], $sellerAmounts::numeric[], $paidAmounts::numeric[],
                $rates::numeric[])
           AS u(product_id, variant_id, seller_id, name, title, sku, image, price, quantity, discount, tax, seller_amount, paid_amount, rate)
  RETURNING *
), shipping AS (
  INSERT INTO order_shipping (order_id, seller_id, rate_id, name, estimated_days, amount, discount_amount, tax_amount, seller_amount, paid_amount)
  SELECT placed.id, s.seller_id, s.rate_id, s.name, s.days, s.amount, s.discount, s.tax, s.seller_amount, s.paid_amount
    FROM placed,
         unnest($shipSellerIds::uuid[], $shipRateIds::uuid[], $shipNames::text[], $shipDays::int[], $shipAmounts::numeric[],
                $shipDiscounts::numeric[], $shipTaxes::numeric[], $shipSellerAmounts::numeric[], $shipPaidAmounts::numeric[])
           AS s(seller_id, rate_id, name, days, amount, discount, tax, seller_amount, paid_amount)
), history AS (
  INSERT INTO order_status_history (order_id, from_status, to_status, note, actor_id, actor_role)
  SELECT placed.id, NULL, 'pending', 'Order placed', $userId, $actorRole::enum_order_status_history_actor_role FROM placed
), emptied AS (
  DELETE FROM cart_items WHERE id = ANY($cartItemIds::uuid[]) AND EXISTS (SELECT 1 FROM placed)
), code_dropped AS (
  UPDATE carts SET promo_code = NULL WHERE user_id = $userId AND promo_code IS NOT NULL AND EXISTS (SELECT 1 FROM placed)
)
SELECT placed.*, lines.id AS item_id, lines.product_id AS item_product_id, lines.variant_id AS item_variant_id, lines.seller_id AS item_seller_id,
       lines.product_name AS item_product_name, lines.variant_title AS item_variant_title, lines.product_sku AS item_product_sku,
       lines.product_image AS item_product_image,
       lines.unit_price AS item_unit_price, lines.quantity AS item_quantity, lines.line_total AS item_line_total,
       lines.discount_amount AS item_discount_amount, lines.tax_amount AS item_tax_amount,
       lines.refunded_amount AS item_refunded_amount, lines.returned_quantity AS item_returned_quantity, lines.fulfillment_status AS item_fulfillment_status,
       lines.tracking_number AS item_tracking_number, lines.tracking_url AS item_tracking_url
  FROM placed JOIN lines ON lines.order_id = placed.id`;

/** The promotion can be used now; `p` is its row. */
const PROMOTION_OPEN = `p.id = $promotionId AND p.active
     AND (p.starts_at IS NULL OR p.starts_at <= now()) AND (p.ends_at IS NULL OR p.ends_at > now())`;

/** The customer's own limit, counted in the statement; the customer's cart lock keeps their own checkouts apart. */
const CUSTOMER_UNDER_LIMIT = `(p.usage_limit_per_customer IS NULL
          OR (SELECT count(*) FROM promotion_uses u WHERE u.promotion_id = p.id AND u.user_id = $userId AND u.released_at IS NULL) < p.usage_limit_per_customer)`;

const RECORD_USE = `promotion_used AS (
  INSERT INTO promotion_uses (promotion_id, order_id, user_id) SELECT id, $orderId, $userId FROM promotion_taken RETURNING id
)`;

/**
 * Takes one use of a promotion with a usage limit, in the checkout's transaction: one conditional
 * UPDATE (its row lock makes concurrent checkouts of one code wait, and each sees the count the
 * last one left), so with a usage limit of N exactly N orders get it.
 */
const LIMITED_USE_STEPS = `promotion_taken AS (
  UPDATE promotions p SET used_count = used_count + 1, updated_at = now()
   WHERE (SELECT rows FROM stock_taken) > 0 AND ${PROMOTION_OPEN}
     AND (p.usage_limit IS NULL OR p.used_count < p.usage_limit)
     AND ${CUSTOMER_UNDER_LIMIT}
  RETURNING p.id
), ${RECORD_USE}`;

/**
 * Takes one use of a promotion without a usage limit: the use row only, under the KEY SHARE lock
 * the order's reference to the promotion takes anyway, so checkouts of one popular code do not
 * wait for each other. Its `used_count` is not kept (its uses are counted when shown). The lock
 * is read again here: a limit set since the promotion was priced (the change waits for these
 * locks with FOR UPDATE, then counts the uses) is seen, and no use is taken unlimited after it.
 */
const UNLIMITED_USE_STEPS = `promotion_taken AS (
  SELECT p.id FROM promotions p
   WHERE (SELECT rows FROM stock_taken) > 0 AND ${PROMOTION_OPEN}
     AND p.usage_limit IS NULL
     AND ${CUSTOMER_UNDER_LIMIT}
  FOR KEY SHARE
), ${RECORD_USE}`;

/**
 * The steps that take the order's use of its promotion, which checkout runs in the statement that
 * takes the stock (`takeStock` with these steps), so that a limited promotion's row lock, which
 * every checkout with a popular limited code waits for, is held for that one statement and the
 * commit.
 */
export function promotionUseSteps(promotion: { limited: boolean }): { ctes: string; rowsOf: string } {
  return { ctes: promotion.limited ? LIMITED_USE_STEPS : UNLIMITED_USE_STEPS, rowsOf: 'promotion_used' };
}

/** A line whose product or variant can no longer be bought (out of stock is a shortfall, not a withdrawal). */
function isWithdrawn(line: CartLineRow): boolean {
  return !PUBLIC_PRODUCT_STATUSES.includes(line.status) || line.deleted_at !== null || line.variant_status !== 'active' || line.variant_deleted_at !== null;
}

function productUnavailable(lines: CartLineRow[]): ConflictError {
  return new ConflictError(
    'PRODUCT_UNAVAILABLE',
    'Some products in the cart are no longer for sale; remove them from the cart',
    lines.map((line) => ({ productId: line.product_id, variantId: line.variant_id, name: line.name })),
  );
}


const ORDER_NUMBER_ALPHABET = '23456789ABCDEFGHJKLMNPQRSTUVWXYZ';

export interface CartLineRow {
  item_id: string;
  product_id: string;
  variant_id: string;
  quantity: number;
  name: string;
  variant_title: string;
  sku: string;
  image: string | null;
  price: string;
  seller_id: string;
  category_id: string | null;
  status: ProductStatus;
  deleted_at: Date | null;
  variant_status: string;
  variant_deleted_at: Date | null;
  stock_quantity: number;
  commission_rate: string;
}

/** The lines as the pricing function takes them. */
export function pricingLines(lines: CartLineRow[]): PricingLine[] {
  return lines.map((line) => ({
    itemId: line.item_id,
    sellerId: line.seller_id,
    productId: line.product_id,
    categoryId: line.category_id,
    unitPrice: toMinor(line.price),
    quantity: line.quantity,
  }));
}

/**
 * The binds of PLACE_ORDER: the order's figures, and arrays (in the lines' order, then the
 * parcels') that carry the lines with their priced figures, the sellers' shipping, and the cart
 * lines it empties.
 */
export function placeOrderBinds(lines: CartLineRow[], pricing: Pricing) {
  const priced = new Map(pricing.lines.map((line) => [line.itemId, line]));
  const figure = (line: CartLineRow) => priced.get(line.item_id)!;
  return {
    subtotal: fromMinor(pricing.subtotal),
    tax: fromMinor(pricing.tax),
    shipping: fromMinor(pricing.shipping),
    discount: fromMinor(pricing.discount),
    total: fromMinor(pricing.total),
    promotionId: pricing.promotion?.id ?? null,
    promotionCode: pricing.promotion?.code ?? null,
    fundedBy: pricing.promotion?.fundedBy ?? null,
    taxRate: pricing.taxRate,
    pricesIncludeTax: pricing.pricesIncludeTax,
    cartItemIds: lines.map((line) => line.item_id),
    productIds: lines.map((line) => line.product_id),
    variantIds: lines.map((line) => line.variant_id),
    sellerIds: lines.map((line) => line.seller_id),
    names: lines.map((line) => line.name),
    titles: lines.map((line) => line.variant_title),
    skus: lines.map((line) => line.sku),
    images: lines.map((line) => line.image),
    prices: lines.map((line) => line.price),
    quantities: lines.map((line) => line.quantity),
    discounts: lines.map((line) => fromMinor(figure(line).discount)),
    taxes: lines.map((line) => fromMinor(figure(line).tax)),
    sellerAmounts: lines.map((line) => fromMinor(figure(line).sellerAmount)),
    paidAmounts: lines.map((line) => fromMinor(figure(line).paidAmount)),
    rates: lines.map((line) => line.commission_rate),
    shipSellerIds: pricing.shippingLines.map((parcel) => parcel.sellerId),
    shipRateIds: pricing.shippingLines.map((parcel) => parcel.rateId),
    shipNames: pricing.shippingLines.map((parcel) => parcel.name),
    shipDays: pricing.shippingLines.map((parcel) => parcel.estimatedDays),
    shipAmounts: pricing.shippingLines.map((parcel) => fromMinor(parcel.amount)),
    shipDiscounts: pricing.shippingLines.map((parcel) => fromMinor(parcel.discount)),
    shipTaxes: pricing.shippingLines.map((parcel) => fromMinor(parcel.tax)),
    shipSellerAmounts: pricing.shippingLines.map((parcel) => fromMinor(parcel.sellerAmount)),
    shipPaidAmounts: pricing.shippingLines.map((parcel) => fromMinor(parcel.paidAmount)),
  };
}

/** ORD-YYYYMMDD-XXXXXX: the UTC date and six characters of an alphabet without look-alikes (32^6 a day). */
export function newOrderNumber(now: Date = new Date()): string {
  const date = now.toISOString().slice(0, 10).replace(/-/g, '');
  let suffix = '';
  for (let i = 0; i < 6; i += 1) suffix += ORDER_NUMBER_ALPHABET[crypto.randomInt(ORDER_NUMBER_ALPHABET.length)];
  return `ORD-${date}-${suffix}`;
}

/** JSON with sorted keys: the same body always hashes the same, whatever the key order it was sent in. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    return `{${Object.keys(value)
      .sort()
      .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
      .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

export class CheckoutService {
  /**
   * Places the signed-in user's cart as an order, in one transaction (retried on deadlock or
   * serialization failure): prices re-read, lines snapshotted (name, SKU, image, price, seller,
   * commission rate), totals from the configured rules, the cart emptied, the first history row,
   * and the stock taken last by one conditional UPDATE, so that no two orders ever sell the same
   * unit and the row locks are held for the shortest time. With an Idempotency-Key the same key
   * and body give the same order (also when sent many times at once); another body is 422.
   */
  async checkout(caller: Caller, input: CheckoutInput, idempotencyKey?: string): Promise<CheckoutResult> {
    const requestHash = crypto.createHash('sha256').update(canonicalJson(input)).digest('hex');
    const result = await inTransaction(
      async (transaction): Promise<CheckoutResult> => {
        if (idempotencyKey) {
          const replay = await this.claimIdempotencyKey(caller.id, idempotencyKey, requestHash, transaction);
          if (replay) return replay;
        }
        // The cart's row lock: a concurrent checkout of the same cart waits here and then finds it
        // empty; adds wait for this order to be placed (or not).
        const [cart] = await queryRows<{ id: string; promo_code: string | null }>(LOCK_CART, { userId: caller.id }, transaction);
        // A saved address is copied into the order: editing the address book later changes no order.
        const shippingAddress = input.shippingAddressId ? await addressService.copyFor(caller.id, input.shippingAddressId, transaction) : input.shippingAddress!;
        const destination = { country: shippingAddress.country, state: shippingAddress.state };
        const code = cart?.promo_code ?? null;
        const lines = await queryRows<CartLineRow & PricingSourcesRow>(
          CART_LINES_AND_SOURCES,
          { ...pricingSourcesColumnsBinds({ ...destination, code, userId: caller.id }), defaultRate: config.commerce.commissionRate.toFixed(4) },
          transaction,
        );
        if (lines.length === 0) throw new BadRequestError('CART_EMPTY', 'The cart is empty');
        // Refused before anything is written; the conditional take below is what guarantees it.
        const withdrawn = lines.filter(isWithdrawn);
        if (withdrawn.length > 0) throw productUnavailable(withdrawn);
        const short: StockShortfall[] = lines
          .filter((line) => line.status !== 'active' || line.stock_quantity < line.quantity)
          .map((line) => ({
            productId: line.product_id,
            variantId: line.variant_id,
            name: line.name,
            requested: line.quantity,
            available: line.status === 'active' ? line.stock_quantity : 0,
          }));
        if (short.length > 0) throw insufficientStock(short);

        // The same sources and function as the quote, read under the cart's lock with the lines.
        const pricing = priceFromSources({ lines: pricingLines(lines), destination, chosenRates: input.shippingRates, code }, pricingSourcesOf(lines[0], Boolean(code)));
        const order = await this.placeOrder(caller, { ...input, shippingAddress }, lines, pricing, transaction);
        await recordOrderEvent('order.created', order.id, transaction);
        if (idempotencyKey) {
          await queryRows(
            `UPDATE idempotency_keys SET response_status = 201, response_body = $body::jsonb, resource_id = $orderId, locked_at = NULL, updated_at = now()
              WHERE user_id = $userId AND key = $key`,
            { body: JSON.stringify(order), orderId: order.id, userId: caller.id, key: idempotencyKey },
            transaction,
          );
        }
        // Last: the row locks of the stock, and the promotion's, are held from this statement to the commit only.
        const promotion = pricing.promotion;
        const { alongsideRows } = await takeStock(
          lines.map((line) => ({ variantId: line.variant_id, quantity: line.quantity, unitPrice: line.price })),
          transaction,
          promotion ? { ...promotionUseSteps(promotion), bind: { promotionId: promotion.id, orderId: order.id, userId: caller.id } } : undefined,
        );
        if (promotion && alongsideRows === 0) {
          // Used up since it was read: nothing of this checkout stays.
          if (promotion.limited) throw promoNotApplicable(promotion.code, 'used_up');
          // Changed since it was read (a limit set, deactivated): priced again, the code is judged as it is now.
          throw new RetryTransactionError('the promotion changed during checkout');
        }
        return { order, replayed: false };
      },
      { name: 'checkout' },
    );
    if (!result.replayed) logger.info('order placed', { orderId: result.order.id, userId: caller.id, total: result.order.totalAmount });
    return result;
  }

  /**
   * Takes the key for this request, or answers with what the first request with it made. The
   * insert waits on the unique index for a concurrent holder of the key to commit or roll back,
   * so of many requests at once one places the order and the others replay it. An expired key
   * (24 h) is taken over.
   */
  private async claimIdempotencyKey(userId: string, key: string, requestHash: string, transaction: Transaction): Promise<CheckoutResult | undefined> {
    const claimed = await queryRows<{ id: string }>(
      `INSERT INTO idempotency_keys (user_id, key, method, path, request_hash, locked_at, expires_at)
       VALUES ($userId, $key, 'POST', '/api/orders', $requestHash, now(), now() + make_interval(hours => ${IDEMPOTENCY_TTL_HOURS}))
       ON CONFLICT (user_id, key) DO UPDATE
          SET request_hash = EXCLUDED.request_hash, method = EXCLUDED.method, path = EXCLUDED.path, response_status = NULL,
              response_body = NULL, resource_id = NULL, locked_at = now(), expires_at = EXCLUDED.expires_at, created_at = now(), updated_at = now()
        WHERE idempotency_keys.expires_at <= now()
       RETURNING id`,
      { userId, key, requestHash },
      transaction,
    );
    if (claimed.length > 0) return undefined;
    const [existing] = await queryRows<{ request_hash: string; path: string; response_status: number | null; response_body: OrderView | null; resource_id: string | null }>(
      'SELECT request_hash, path, response_status, response_body, resource_id FROM idempotency_keys WHERE user_id = $userId AND key = $key',
      { userId, key },
      transaction,
    );
    if (!existing || existing.path !== '/api/orders' || existing.request_hash !== requestHash) {
      throw new UnprocessableError('IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was used with another request');
    }
    if (!existing.response_body) throw new Error('An idempotency key committed without its response');
    return { order: existing.response_body, replayed: true };
  }

  /**
   * Writes the order, its lines (the snapshot), its first history row, and empties the cart, in
   * one statement; returns the order as the API shows it, from what the statement wrote.
   */
  private async placeOrder(caller: Caller, input: CheckoutInput, lines: CartLineRow[], pricing: Pricing, transaction: Transaction): Promise<OrderView> {
    const bind = {
      userId: caller.id,
      actorRole: caller.role,
      currency: config.commerce.currency,
      ...placeOrderBinds(lines, pricing),
      shippingAddress: JSON.stringify(input.shippingAddress),
      billingAddress: input.billingAddress ? JSON.stringify(input.billingAddress) : null,
      notes: input.notes ?? null,
      timeout: config.commerce.paymentTimeoutMinutes,
    };
    // A number another order holds makes the statement write nothing (the unique index decides): draw again.
    for (let attempt = 0; attempt < 10; attempt += 1) {
      const rows = await queryRows<PlacedOrderRow>(PLACE_ORDER, { ...bind, orderNumber: newOrderNumber() }, transaction);
      if (rows.length > 0) return serializePlacedOrder(rows, pricing.shippingLines);
    }
    throw new Error('Could not draw a free order number in 10 tries');
  }
}

export const checkoutService = new CheckoutService();
