import type { Transaction } from 'sequelize';
import { config } from '../../platform/config';
import { queryRows } from '../../platform/db/query';
import { toMinor } from '../../platform/utils/money';
import type { PromotionType } from '../../models';
import { priceCart, promoNotApplicable, type Pricing, type PricingDefaults, type PricingLine, type PricingPromotion, type PricingShippingRate, type PricingTaxRate } from './pricing';

/**
 * What the pricing function needs from the database, in one statement: the shipping rates of
 * the sellers in a cart, the destination's most specific tax rate, and the promotion of a code
 * with the customer's uses of it. Quote and checkout read it the same way.
 */

export interface PricingSources {
  shippingRates: PricingShippingRate[];
  taxRate: PricingTaxRate | null;
  /** Undefined: no code asked; null: a code no promotion has. */
  promotion: PricingPromotion | null | undefined;
}

export interface PricingSourcesQuery {
  sellerIds: string[];
  country: string;
  state?: string | null;
  /** The cart's code, as typed or stored. */
  code?: string | null;
  /** The customer whose uses count (none for a guest). */
  userId?: string | null;
}

export interface PromotionRow {
  id: string;
  code: string;
  seller_id: string | null;
  type: PromotionType;
  value: string | null;
  min_subtotal: string | null;
  starts_at: string | Date | null;
  ends_at: string | Date | null;
  product_ids: string[] | null;
  category_ids: string[] | null;
  active: boolean;
  usage_limit: number | null;
  used_count: number;
  usage_limit_per_customer: number | null;
  customer_uses: number;
}

/**
 * A promotion's categories with every category under them: a code for Electronics applies to
 * Audio and Cameras too. `p` is the promotions row.
 */
const PROMOTION_CATEGORIES = `CASE WHEN p.category_ids IS NULL THEN NULL ELSE (
  WITH RECURSIVE tree AS (
    SELECT c.id FROM categories c WHERE c.id = ANY(p.category_ids)
    UNION
    SELECT c.id FROM categories c JOIN tree t ON c.parent_id = t.id
  ) SELECT coalesce(array_agg(id), '{}') FROM tree) END`;

/** The promotion of `$code` as JSON, with the uses `$userId` has not given back (null: no such code); read by `promotionOf`. */
export const PROMOTION_OF_CODE = `(SELECT json_build_object(
    'id', p.id, 'code', p.code, 'seller_id', p.seller_id, 'type', p.type, 'value', p.value::text,
    'min_subtotal', p.min_subtotal::text, 'starts_at', p.starts_at, 'ends_at', p.ends_at,
    'product_ids', p.product_ids, 'category_ids', ${PROMOTION_CATEGORIES}, 'active', p.active,
    'usage_limit', p.usage_limit, 'used_count', p.used_count, 'usage_limit_per_customer', p.usage_limit_per_customer,
    'customer_uses', (SELECT count(*) FROM promotion_uses u WHERE u.promotion_id = p.id AND u.user_id = $userId::uuid AND u.released_at IS NULL))
  FROM promotions p WHERE p.code = $code::text)`;

/**
 * The three sources as columns (rates, tax, promotion), for the sellers `sellerIds` (an SQL
 * expression of a uuid array), the destination `$country`/`$state` and the code `$code`.
 */
export function pricingSourcesColumns(sellerIds: string): string {
  return `(SELECT coalesce(json_agg(json_build_object('id', r.id, 'seller_id', r.seller_id, 'name', r.name, 'countries', r.countries,
                                                   'price', r.price::text, 'free_over', r.free_over::text, 'estimated_days', r.estimated_days)
                                 ORDER BY r.seller_id, r.price, r.id), '[]'::json)
          FROM shipping_rates r WHERE r.seller_id = ANY(${sellerIds})) AS rates,
       (SELECT json_build_object('rate', t.rate::text, 'applies_to_shipping', t.applies_to_shipping)
          FROM tax_rates t WHERE t.country = $country AND (t.state IS NULL OR t.state = $state::text)
         ORDER BY t.state IS NULL LIMIT 1) AS tax,
       ${PROMOTION_OF_CODE} AS promotion`;
}

export const PRICING_SOURCES = `SELECT ${pricingSourcesColumns('$sellerIds::uuid[]')}`;

/** A code as stored: trimmed, upper case. */
export function normalizeCode(code: string): string {
  return code.trim().toUpperCase();
}

export function promotionOf(row: PromotionRow): PricingPromotion {
  return {
    id: row.id,
    code: row.code,
    sellerId: row.seller_id,
    type: row.type,
    // A percent with two decimals as hundredths of a percent (10.50 % → 1050); money as minor units.
    value: row.value === null ? null : toMinor(row.value),
    minSubtotal: row.min_subtotal === null ? null : toMinor(row.min_subtotal),
    startsAt: row.starts_at ? new Date(row.starts_at) : null,
    endsAt: row.ends_at ? new Date(row.ends_at) : null,
    productIds: row.product_ids,
    categoryIds: row.category_ids,
    active: row.active,
    usageLimit: row.usage_limit,
    usedCount: row.used_count,
    usageLimitPerCustomer: row.usage_limit_per_customer,
    customerUses: Number(row.customer_uses),
  };
}

export interface PricingSourcesRow {
  rates: Array<{ id: string; seller_id: string; name: string; countries: string[]; price: string; free_over: string | null; estimated_days: number | null }>;
  tax: { rate: string; applies_to_shipping: boolean } | null;
  promotion: PromotionRow | null;
}

/** The binds of `pricingSourcesColumns` (all but the sellers', which it takes as SQL): the destination and code as stored. */
export function pricingSourcesColumnsBinds(query: Omit<PricingSourcesQuery, 'sellerIds'>) {
  return {
    country: query.country.toUpperCase(),
    state: query.state ? query.state.trim().toUpperCase() : null,
    code: query.code ? normalizeCode(query.code) : null,
    userId: query.userId ?? null,
  };
}

/** The binds of PRICING_SOURCES. */
export function pricingSourcesBinds(query: PricingSourcesQuery) {
  return { sellerIds: query.sellerIds, ...pricingSourcesColumnsBinds(query) };
}

export async function loadPricingSources(query: PricingSourcesQuery, transaction?: Transaction): Promise<PricingSources> {
  const [row] = await queryRows<PricingSourcesRow>(PRICING_SOURCES, pricingSourcesBinds(query), transaction);
  return pricingSourcesOf(row, Boolean(query.code));
}

/** What PRICING_SOURCES read, as the pricing function takes it. */
export function pricingSourcesOf(row: PricingSourcesRow, codeAsked: boolean): PricingSources {
  return {
    shippingRates: row.rates.map((rate) => ({
      id: rate.id,
      sellerId: rate.seller_id,
      name: rate.name,
      countries: rate.countries,
      price: toMinor(rate.price),
      freeOver: rate.free_over === null ? null : toMinor(rate.free_over),
      estimatedDays: rate.estimated_days,
    })),
    taxRate: row.tax ? { rate: row.tax.rate, appliesToShipping: row.tax.applies_to_shipping } : null,
    promotion: !codeAsked ? undefined : row.promotion ? promotionOf(row.promotion) : null,
  };
}

/** The promotion of a code (any case), with the customer's uses of it; null for a code no promotion has. */
export async function loadPromotion(code: string, userId: string | null, transaction?: Transaction): Promise<PricingPromotion | null> {
  const [row] = await queryRows<{ promotion: PromotionRow | null }>(`SELECT ${PROMOTION_OF_CODE} AS promotion`, { code: normalizeCode(code), userId }, transaction);
  return row.promotion ? promotionOf(row.promotion) : null;
}

/** The configured fallbacks: shipping of sellers without rates, tax where no rate matches, tax-inclusive prices. */
export function pricingDefaults(commerce = config.commerce): PricingDefaults {
  return {
    flatRate: toMinor(commerce.shippingFlatRate),
    freeShippingThreshold: commerce.freeShippingThreshold === undefined ? null : toMinor(commerce.freeShippingThreshold),
    fallbackTax: { rate: commerce.taxRate.toFixed(4), appliesToShipping: false },
    pricesIncludeTax: commerce.pricesIncludeTax,
  };
}

/** What priceLines prices (pricing.ts's PricingInput is what priceCart takes once the sources are read). */
export interface PriceLinesInput {
  lines: PricingLine[];
  destination: { country: string; state?: string | null };
  chosenRates?: Record<string, string>;
  code: string | null;
  userId: string | null;
}

/**
 * Prices lines for a destination with a cart's code, from what the database holds now: the
 * quote calls it, checkout prices from the sources it reads with its lines. A code no promotion has (any
 * more) is 409 PROMO_NOT_APPLICABLE.
 */
export async function priceLines(input: PriceLinesInput, transaction?: Transaction): Promise<Pricing> {
  const { lines, destination, code } = input;
  const sources = await loadPricingSources(
    { sellerIds: [...new Set(lines.map((line) => line.sellerId))], country: destination.country, state: destination.state, code, userId: input.userId },
    transaction,
  );
  return priceFromSources(input, sources);
}

/** Prices lines from sources already read (by PRICING_SOURCES or a statement with its columns). */
export function priceFromSources(input: Omit<PriceLinesInput, 'userId'>, sources: PricingSources): Pricing {
  const { lines, destination, code } = input;
  if (code && !sources.promotion) throw promoNotApplicable(code, 'inactive');
  return priceCart({
    lines,
    destination,
    shippingRates: sources.shippingRates,
    chosenRates: input.chosenRates,
    taxRate: sources.taxRate,
    promotion: sources.promotion ?? null,
    defaults: pricingDefaults(),
    now: new Date(),
  });
}
