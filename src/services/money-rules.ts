import { config } from '../config';
import { applyRate, toMinor } from '../utils/money';

/**
 * The contract's money rules, in one place: order totals at checkout, and what a sold line is
 * worth to its seller and to the platform. Amounts are integer minor units.
 */

export interface OrderTotals {
  subtotal: number;
  tax: number;
  shipping: number;
  discount: number;
  total: number;
}

/**
 * total = subtotal + tax + shipping − discount. Tax is TAX_RATE of the subtotal, rounded half up;
 * shipping is SHIPPING_FLAT_RATE unless the subtotal reaches FREE_SHIPPING_THRESHOLD.
 */
export function orderTotals(subtotal: number, commerce = config.commerce): OrderTotals {
  const tax = applyRate(subtotal, commerce.taxRate);
  const threshold = commerce.freeShippingThreshold === undefined ? undefined : toMinor(commerce.freeShippingThreshold);
  const shipping = threshold !== undefined && subtotal >= threshold ? 0 : toMinor(commerce.shippingFlatRate);
  const discount = 0;
  return { subtotal, tax, shipping, discount, total: subtotal + tax + shipping - discount };
}

/** A line's commission: round_half_up((lineTotal − refunded) × rate), the rate snapshotted on the line. */
export function lineCommission(lineTotal: number, refunded: number, rate: number): number {
  return applyRate(lineTotal - refunded, rate);
}

/** What the seller earns from a line: lineTotal − refunded − commission. */
export function lineNet(lineTotal: number, refunded: number, rate: number): number {
  return lineTotal - refunded - lineCommission(lineTotal, refunded, rate);
}
