import { applyRate } from '../../platform/utils/money';

/**
 * The contract's money rules, in one place: what a sold line is worth to its seller and to the
 * platform, and how amounts are split over lines. Amounts are integer minor units. Order totals
 * are the order module's pricing function.
 */

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
  // The cents lost to flooring go to the lines with the largest remainders (ties: in line order).
  const parts = spreadByLargestRemainder(toLines, open.map((line) => line.remaining));
  open.forEach((line, index) => {
    if (parts[index] > 0) shares.set(line.id, parts[index]);
  });
  return shares;
}

/**
 * Splits `amount` over parts in proportion to their weights, to the cent: each part gets the floor
 * of its exact share, and the cents flooring leaves go to the largest remainders (ties: in the
 * parts' order). Never gives a part more than its weight when amount ≤ the weights' sum. Minor units.
 */
export function spreadByLargestRemainder(amount: number, weights: number[]): number[] {
  const whole = weights.reduce((sum, weight) => sum + Math.max(weight, 0), 0);
  if (amount <= 0 || whole <= 0) return weights.map(() => 0);
  const parts = weights.map((weight, index) => {
    const exact = BigInt(amount) * BigInt(Math.max(weight, 0));
    return { index, share: Number(exact / BigInt(whole)), remainder: exact % BigInt(whole) };
  });
  let left = amount - parts.reduce((sum, part) => sum + part.share, 0);
  const byRemainder = [...parts].sort((a, b) => (b.remainder > a.remainder ? 1 : b.remainder < a.remainder ? -1 : a.index - b.index));
  for (const part of byRemainder) {
    if (left === 0) break;
    if (part.remainder > 0n) {
      part.share += 1;
      left -= 1;
    }
  }
  return parts.map((part) => part.share);
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

/**
 * What an order has for a refund to take back, per line and per seller's parcel: what the customer
 * paid for it (and of that, what was refunded) and what its seller is credited (and of that, what
 * was refunded). Minor units.
 */
export interface RefundablePart {
  id: string;
  kind: 'line' | 'shipping';
  sellerId: string;
  paid: number;
  paidRefunded: number;
  credited: number;
  creditRefunded: number;
}

/** A refund's share of a part: customer money back, and the seller's credit taken back. */
export interface RefundShare {
  paid: number;
  credited: number;
}

function sellerShareOfPaid(part: RefundablePart, paidShare: number): number {
  // The seller gives back the same fraction of the credit as the customer gets of what was paid,
  // telescoped so that the refunds of a part always add up to its whole credit.
  const upTo = (paidRefunded: number) => proportionalShare(part.credited, paidRefunded, part.paid);
  return Math.min(upTo(part.paidRefunded + paidShare) - upTo(part.paidRefunded), part.credited - part.creditRefunded);
}

/** Units of a line a return gives back: `quantity` of the line's `of`, after `before` returned earlier. */
export interface ReturnedUnits {
  id: string;
  quantity: number;
  before: number;
  of: number;
}

/** What a refund is for: an amount, whole lines, or returned units (none of them: everything left). */
export interface RefundRequest {
  amount?: number;
  itemIds?: string[];
  units?: ReturnedUnits[];
}

/**
 * Splits a refund over an order's parts. A refund for lines (`itemIds`: an admin cancelling the
 * lines not shipped yet) gives those lines back whole; a refund for returned units gives back
 * their share of each line, telescoped over the line's units (the share of units n+1..n+q is
 * what the first n+q units stand for less what the first n do, so that every unit of a line
 * returned adds up to the whole line); a refund of everything left gives
 * every part back whole; any other amount goes to the lines in proportion to what is left of
 * them (largest remainder), and only past them to the shipping. A part given back whole gives its
 * whole credit back (also a line the customer paid nothing for), and a seller's shipping credit is
 * taken back, whole, only once every line of that seller is. Returns the share of each part, and
 * the amount these shares add up to (a refund for lines is that amount).
 */
export function planRefund(parts: RefundablePart[], request: RefundRequest): { amount: number; shares: Map<string, RefundShare> } {
  const left = (part: RefundablePart) => part.paid - part.paidRefunded;
  const shares = new Map<string, RefundShare>();
  const lines = parts.filter((part) => part.kind === 'line');
  const whole = new Set<string>();
  const everything = parts.reduce((sum, part) => sum + left(part), 0);
  if (request.itemIds) {
    for (const part of lines) if (request.itemIds.includes(part.id)) whole.add(part.id);
  } else if (!request.units && (request.amount === undefined || request.amount >= everything)) {
    for (const part of parts) whole.add(part.id);
  }
  for (const part of lines) {
    if (whole.has(part.id)) shares.set(part.id, { paid: left(part), credited: part.credited - part.creditRefunded });
  }
  const targeted = Boolean(request.itemIds || request.units);
  if (request.units) {
    for (const units of request.units) {
      const part = lines.find((line) => line.id === units.id);
      if (!part || units.quantity <= 0) continue;
      const upTo = (amount: number, count: number) => (count >= units.of ? amount : proportionalShare(amount, count, units.of));
      const paid = Math.min(upTo(part.paid, units.before + units.quantity) - upTo(part.paid, units.before), left(part));
      const credited = Math.min(upTo(part.credited, units.before + units.quantity) - upTo(part.credited, units.before), part.credited - part.creditRefunded);
      shares.set(part.id, { paid: Math.max(paid, 0), credited: Math.max(credited, 0) });
    }
  } else if (!request.itemIds && !(request.amount === undefined || request.amount >= everything)) {
    const amount = request.amount;
    const linesLeft = lines.reduce((sum, part) => sum + left(part), 0);
    const toLines = spreadByLargestRemainder(Math.min(amount, linesLeft), lines.map(left));
    lines.forEach((part, index) => {
      if (toLines[index] === 0) return;
      const done = toLines[index] === left(part);
      shares.set(part.id, { paid: toLines[index], credited: done ? part.credited - part.creditRefunded : sellerShareOfPaid(part, toLines[index]) });
    });
    const parcels = parts.filter((part) => part.kind === 'shipping');
    const toParcels = spreadByLargestRemainder(Math.max(amount - linesLeft, 0), parcels.map(left));
    parcels.forEach((part, index) => {
      if (toParcels[index] > 0) shares.set(part.id, { paid: toParcels[index], credited: 0 });
    });
  }
  // A seller's parcel: whole once every line of that seller is (money back for what is left of it).
  for (const parcel of parts.filter((part) => part.kind === 'shipping')) {
    const sellerLines = lines.filter((line) => line.sellerId === parcel.sellerId);
    const linesDone = sellerLines.every((line) => {
      const share = shares.get(line.id) ?? { paid: 0, credited: 0 };
      return line.paidRefunded + share.paid === line.paid && line.creditRefunded + share.credited === line.credited;
    });
    if (!linesDone) continue;
    const share = shares.get(parcel.id) ?? { paid: 0, credited: 0 };
    const paid = targeted || whole.has(parcel.id) ? left(parcel) : share.paid;
    if (parcel.paidRefunded + paid === parcel.paid) shares.set(parcel.id, { paid, credited: parcel.credited - parcel.creditRefunded });
  }
  for (const [id, share] of shares) if (share.paid === 0 && share.credited === 0) shares.delete(id);
  const amount = [...shares.values()].reduce((sum, share) => sum + share.paid, 0);
  return { amount, shares };
}
