import { config } from '../../platform/config';
import { applyRate, toMinor } from '../../platform/utils/money';

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

/**
 * Splits a refund over an order's lines. `outstanding` is what the order had paid and not yet
 * refunded (lines, tax, shipping); the lines' part of the refund is their share of it (half up),
 * spread in proportion to what each line has left (largest remainder, so the parts add up to the
 * cent). A refund of everything outstanding refunds every line in full. Minor units.
 */
export function allocateRefund(amount: number, lines: Array<{ id: string; remaining: number }>, outstanding: number): Map<string, number> {
  const open = lines.filter((line) => line.remaining > 0);
  const total = open.reduce((sum, line) => sum + line.remaining, 0);
  const share = outstanding <= 0 ? 0n : (2n * BigInt(amount) * BigInt(total) + BigInt(outstanding)) / (2n * BigInt(outstanding));
  const toLines = Math.min(Number(share), total);
  const shares = new Map<string, number>();
  if (toLines <= 0) return shares;
  const parts = open.map((line) => {
    const exact = BigInt(toLines) * BigInt(line.remaining);
    return { id: line.id, floor: Number(exact / BigInt(total)), remainder: exact % BigInt(total), cap: line.remaining };
  });
  let left = toLines - parts.reduce((sum, part) => sum + part.floor, 0);
  // The cents lost to flooring go to the lines with the largest remainders (ties: in line order).
  const byRemainder = [...parts].sort((a, b) => (b.remainder > a.remainder ? 1 : b.remainder < a.remainder ? -1 : 0));
  for (const part of byRemainder) {
    if (left === 0) break;
    if (part.floor < part.cap) {
      part.floor += 1;
      left -= 1;
    }
  }
  for (const part of parts) if (part.floor > 0) shares.set(part.id, part.floor);
  return shares;
}

/** round_half_up(amount × part / whole), in minor units: the share of `amount` that `part` of `whole` stands for. */
export function proportionalShare(amount: number, part: number, whole: number): number {
  if (whole <= 0 || part <= 0 || amount <= 0) return 0;
  return Number((2n * BigInt(amount) * BigInt(part) + BigInt(whole)) / (2n * BigInt(whole)));
}

/**
 * lineCommission as SQL over numeric columns (amounts with two decimals, rates with four), for
 * the aggregates of ledgers and statistics: PostgreSQL's round() on numeric rounds half away from
 * zero, as applyRate does. tests/integration/marketplace-money.test.ts holds the two to the same results.
 */
export function lineCommissionSql(lineTotal: string, refunded: string, rate: string): string {
  return `round((${lineTotal} - ${refunded}) * ${rate}, 2)`;
}
