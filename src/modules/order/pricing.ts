import type { DiscountFunder, PromotionType } from '../../models';
import { applyRate, fromMinor } from '../../platform/utils/money';
import { ConflictError } from '../../platform/utils/errors';
import { spreadByLargestRemainder } from '../finance';

/**
 * The one pricing function: a cart's lines, a destination, the sellers' shipping rates, the tax
 * rate of the destination and a promotion become every figure of an order, per line and per
 * seller's parcel. Quote and checkout both call it with what they read; it reads nothing itself,
 * so the quote a customer sees is the order checkout places from the same rows. Minor units.
 *
 * - Shipping is per seller: the chosen rate, else that seller's cheapest rate covering the
 *   country; free from the rate's `freeOver` (against the seller's discounted subtotal). A seller
 *   with no rates at all ships at the platform default (flat rate, free from a threshold).
 * - The discount of a `percentage` or `fixed` code is spread over its eligible lines in
 *   proportion to their totals (largest remainder); `free_shipping` takes the shipping of the
 *   sellers with an eligible line.
 * - Tax: per line on its discounted amount, half up; on each parcel's discounted shipping when
 *   the rate says so. With prices including tax, it is the part of the amount that is tax.
 * - Who pays: a seller's code lowers what that seller is credited; the platform's does not.
 */

export interface PricingLine {
  itemId: string;
  sellerId: string;
  productId: string;
  categoryId: string | null;
  unitPrice: number;
  quantity: number;
}

export interface PricingShippingRate {
  id: string;
  sellerId: string;
  name: string;
  /** ISO codes, or ['*']. */
  countries: string[];
  price: number;
  freeOver: number | null;
  estimatedDays: number | null;
}

export interface PricingTaxRate {
  /** 0..1 with at most four decimals, as stored ("0.0825"). */
  rate: string;
  appliesToShipping: boolean;
}

export interface PricingPromotion {
  id: string;
  code: string;
  /** Null: the platform's. */
  sellerId: string | null;
  type: PromotionType;
  /** Percent (1000 = 10.00 %) in hundredths for `percentage`; minor units for `fixed`; null for `free_shipping`. */
  value: number | null;
  minSubtotal: number | null;
  startsAt: Date | null;
  endsAt: Date | null;
  productIds: string[] | null;
  /** The promotion's categories and every category under them. */
  categoryIds: string[] | null;
  active: boolean;
  usageLimit: number | null;
  usedCount: number;
  usageLimitPerCustomer: number | null;
  /** The customer's uses not given back. */
  customerUses: number;
}

export interface PricingDefaults {
  /** Shipping of a seller without rates, per parcel. */
  flatRate: number;
  /** Such a parcel is free from this discounted subtotal; null: never. */
  freeShippingThreshold: number | null;
  /** Where no tax rate of the destination matches. */
  fallbackTax: PricingTaxRate;
  pricesIncludeTax: boolean;
}

export interface PricingInput {
  lines: PricingLine[];
  destination: { country: string; state?: string | null };
  /** Every rate of the sellers of the lines. */
  shippingRates: PricingShippingRate[];
  /** The customer's choice of rate per seller. */
  chosenRates?: Record<string, string>;
  /** The destination's rate, when one matches. */
  taxRate: PricingTaxRate | null;
  promotion: PricingPromotion | null;
  defaults: PricingDefaults;
  now: Date;
}

export interface PricedLine {
  itemId: string;
  sellerId: string;
  unitPrice: number;
  quantity: number;
  lineTotal: number;
  discount: number;
  tax: number;
  /** What the seller is credited (the money rules' line total). */
  sellerAmount: number;
  /** What the customer pays for the line. */
  paidAmount: number;
}

export interface PricedShipping {
  sellerId: string;
  /** Null: the platform default of a seller without rates. */
  rateId: string | null;
  name: string;
  estimatedDays: number | null;
  amount: number;
  discount: number;
  tax: number;
  sellerAmount: number;
  paidAmount: number;
}

export interface Pricing {
  subtotal: number;
  discount: number;
  shipping: number;
  tax: number;
  /** subtotal − discount + shipping (+ tax when prices exclude it): what the customer pays. */
  total: number;
  lines: PricedLine[];
  shippingLines: PricedShipping[];
  /** The code that applied; `limited` when it had a usage limit as it was read (checkout takes its use accordingly). */
  promotion: { id: string; code: string; fundedBy: DiscountFunder; limited: boolean } | null;
  taxRate: string;
  pricesIncludeTax: boolean;
}

export const DEFAULT_SHIPPING_NAME = 'Standard shipping';

/** Why a code does not apply (the details of 409 PROMO_NOT_APPLICABLE). */
export type PromoRefusal = 'inactive' | 'not_started' | 'ended' | 'used_up' | 'already_used' | 'minimum_subtotal' | 'no_eligible_line';

const REFUSAL_TEXT: Record<PromoRefusal, string> = {
  inactive: 'This code is no longer offered',
  not_started: 'This code is not valid yet',
  ended: 'This code has expired',
  used_up: 'This code has been used up',
  already_used: 'You have already used this code',
  minimum_subtotal: 'The cart does not reach the minimum amount for this code',
  no_eligible_line: 'No item in the cart is eligible for this code',
};

export function promoNotApplicable(code: string, reason: PromoRefusal, extra: Record<string, unknown> = {}): ConflictError {
  return new ConflictError('PROMO_NOT_APPLICABLE', REFUSAL_TEXT[reason], [{ code, reason, ...extra }]);
}

function isEligible(line: PricingLine, promotion: PricingPromotion): boolean {
  if (promotion.sellerId && line.sellerId !== promotion.sellerId) return false;
  // A list limits the code to what it names (null: no limit); an empty one, to nothing.
  if (promotion.productIds && !promotion.productIds.includes(line.productId)) return false;
  if (promotion.categoryIds && (!line.categoryId || !promotion.categoryIds.includes(line.categoryId))) return false;
  return true;
}

/**
 * The lines a promotion applies to, or the reason it does not (time, limits, minimum, lines).
 * The usage limits are read here for the quote's answer; checkout's conditional statement is
 * what holds them.
 */
export function eligibleLines(promotion: PricingPromotion, lines: PricingLine[], now: Date): PricingLine[] {
  if (!promotion.active) throw promoNotApplicable(promotion.code, 'inactive');
  if (promotion.startsAt && promotion.startsAt.getTime() > now.getTime()) throw promoNotApplicable(promotion.code, 'not_started');
  if (promotion.endsAt && promotion.endsAt.getTime() <= now.getTime()) throw promoNotApplicable(promotion.code, 'ended');
  if (promotion.usageLimit !== null && promotion.usedCount >= promotion.usageLimit) throw promoNotApplicable(promotion.code, 'used_up');
  if (promotion.usageLimitPerCustomer !== null && promotion.customerUses >= promotion.usageLimitPerCustomer) {
    throw promoNotApplicable(promotion.code, 'already_used');
  }
  const eligible = lines.filter((line) => isEligible(line, promotion));
  if (eligible.length === 0) throw promoNotApplicable(promotion.code, 'no_eligible_line');
  const eligibleSubtotal = eligible.reduce((sum, line) => sum + line.unitPrice * line.quantity, 0);
  if (promotion.minSubtotal !== null && eligibleSubtotal < promotion.minSubtotal) {
    throw promoNotApplicable(promotion.code, 'minimum_subtotal', { minSubtotal: fromMinor(promotion.minSubtotal) });
  }
  return eligible;
}

function coversCountry(rate: PricingShippingRate, country: string): boolean {
  return rate.countries.includes('*') || rate.countries.includes(country);
}

/** A rate with four decimals as ten-thousandths: "0.0825" → 825. */
function basisPoints(rate: string): number {
  const [whole, decimals = ''] = rate.split('.');
  return Number(whole) * 10_000 + Number(decimals.padEnd(4, '0').slice(0, 4));
}

/** Tax on an amount: on top of it (half up), or the part of it that is tax when prices include it. */
function taxOn(amount: number, rate: string, included: boolean): number {
  if (amount <= 0) return 0;
  const bp = basisPoints(rate);
  if (!included) return applyRate(amount, bp / 10_000);
  // amount − round_half_up(amount / (1 + rate)), in integers.
  const net = (2n * BigInt(amount) * 10_000n + BigInt(10_000 + bp)) / (2n * BigInt(10_000 + bp));
  return amount - Number(net);
}

/** Prices a cart; throws 409 SHIPPING_UNAVAILABLE or PROMO_NOT_APPLICABLE. */
export function priceCart(input: PricingInput): Pricing {
  const { lines, defaults, promotion } = input;
  const included = defaults.pricesIncludeTax;
  const country = input.destination.country.toUpperCase();
  const tax = input.taxRate ?? defaults.fallbackTax;

  const lineTotals = lines.map((line) => line.unitPrice * line.quantity);
  const discounts = lines.map(() => 0);
  let shippingFree = new Set<string>();
  const fundedBy: DiscountFunder | null = promotion ? (promotion.sellerId ? 'seller' : 'platform') : null;
  if (promotion) {
    const eligible = new Set(eligibleLines(promotion, lines, input.now).map((line) => line.itemId));
    // By item id: a cent the spread leaves over goes to the same line whatever order the lines
    // came in (the quote reads a cart by age, checkout by variant), so both price alike.
    const indexes = lines
      .map((line, index) => (eligible.has(line.itemId) ? index : -1))
      .filter((index) => index >= 0)
      .sort((a, b) => (lines[a].itemId < lines[b].itemId ? -1 : lines[a].itemId > lines[b].itemId ? 1 : 0));
    const eligibleTotal = indexes.reduce((sum, index) => sum + lineTotals[index], 0);
    if (promotion.type === 'free_shipping') {
      shippingFree = new Set(indexes.map((index) => lines[index].sellerId));
    } else {
      const wanted = promotion.type === 'percentage' ? applyRate(eligibleTotal, (promotion.value ?? 0) / 10_000) : (promotion.value ?? 0);
      const shares = spreadByLargestRemainder(Math.min(wanted, eligibleTotal), indexes.map((index) => lineTotals[index]));
      indexes.forEach((index, position) => (discounts[index] = shares[position]));
    }
  }

  const pricedLines: PricedLine[] = lines.map((line, index) => {
    const lineTotal = lineTotals[index];
    const discount = discounts[index];
    const lineTax = taxOn(lineTotal - discount, tax.rate, included);
    const sellerDiscount = fundedBy === 'seller' ? discount : 0;
    return {
      itemId: line.itemId,
      sellerId: line.sellerId,
      unitPrice: line.unitPrice,
      quantity: line.quantity,
      lineTotal,
      discount,
      tax: lineTax,
      sellerAmount: lineTotal - sellerDiscount - (included ? lineTax : 0),
      paidAmount: lineTotal - discount + (included ? 0 : lineTax),
    };
  });

  // Each seller ships one parcel; parcels come by seller id, whatever the order of the lines.
  const sellers = [...new Set(lines.map((line) => line.sellerId))].sort();
  const unavailable: Array<{ sellerId: string; itemIds: string[] }> = [];
  const shippingLines: PricedShipping[] = [];
  for (const sellerId of sellers) {
    const own = input.shippingRates.filter((rate) => rate.sellerId === sellerId);
    const sellerSubtotal = pricedLines.filter((line) => line.sellerId === sellerId).reduce((sum, line) => sum + line.lineTotal - line.discount, 0);
    let rateId: string | null = null;
    let name = DEFAULT_SHIPPING_NAME;
    let estimatedDays: number | null = null;
    let amount: number;
    if (own.length === 0) {
      amount = defaults.freeShippingThreshold !== null && sellerSubtotal >= defaults.freeShippingThreshold ? 0 : defaults.flatRate;
    } else {
      const covering = own.filter((rate) => coversCountry(rate, country));
      const chosenId = input.chosenRates?.[sellerId];
      const chosen = chosenId ? covering.find((rate) => rate.id === chosenId) : undefined;
      const cost = (rate: PricingShippingRate) => (rate.freeOver !== null && sellerSubtotal >= rate.freeOver ? 0 : rate.price);
      // The cheapest for this parcel (a free-over threshold counts), then by name for a stable answer.
      const rate = chosen ?? [...covering].sort((a, b) => cost(a) - cost(b) || a.name.localeCompare(b.name) || a.id.localeCompare(b.id))[0];
      if (!rate || (chosenId && !chosen)) {
        unavailable.push({ sellerId, itemIds: lines.filter((line) => line.sellerId === sellerId).map((line) => line.itemId) });
        continue;
      }
      rateId = rate.id;
      name = rate.name;
      estimatedDays = rate.estimatedDays;
      amount = cost(rate);
    }
    const discount = shippingFree.has(sellerId) ? amount : 0;
    const shippingTax = tax.appliesToShipping ? taxOn(amount - discount, tax.rate, included) : 0;
    shippingLines.push({
      sellerId,
      rateId,
      name,
      estimatedDays,
      amount,
      discount,
      tax: shippingTax,
      sellerAmount: amount - (fundedBy === 'seller' ? discount : 0) - (included ? shippingTax : 0),
      paidAmount: amount - discount + (included ? 0 : shippingTax),
    });
  }
  if (unavailable.length > 0) {
    const chosenMissing = unavailable.some((entry) => input.chosenRates?.[entry.sellerId]);
    throw new ConflictError(
      'SHIPPING_UNAVAILABLE',
      chosenMissing ? 'A chosen shipping rate does not ship to this address' : `Some sellers do not ship to ${country}`,
      unavailable.map((entry) => ({ sellerId: entry.sellerId, itemIds: entry.itemIds, country })),
    );
  }

  const subtotal = lineTotals.reduce((sum, amount) => sum + amount, 0);
  const discount = pricedLines.reduce((sum, line) => sum + line.discount, 0) + shippingLines.reduce((sum, line) => sum + line.discount, 0);
  const shipping = shippingLines.reduce((sum, line) => sum + line.amount, 0);
  const taxTotal = pricedLines.reduce((sum, line) => sum + line.tax, 0) + shippingLines.reduce((sum, line) => sum + line.tax, 0);
  return {
    subtotal,
    discount,
    shipping,
    tax: taxTotal,
    total: subtotal - discount + shipping + (included ? 0 : taxTotal),
    lines: pricedLines,
    shippingLines,
    promotion: promotion && fundedBy ? { id: promotion.id, code: promotion.code, fundedBy, limited: promotion.usageLimit !== null } : null,
    taxRate: tax.rate,
    pricesIncludeTax: included,
  };
}
