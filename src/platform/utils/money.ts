/**
 * Money is integer minor units (cents) in code and DECIMAL(10,2) strings at the edges
 * (database and JSON). No binary float ever holds an amount.
 */
const AMOUNT = /^(-)?(\d+)(?:\.(\d{1,2}))?$/;

/** "19.99" or 19.99 → 1999. Numbers are read through their shortest decimal string, so 0.1 + 0.2 style drift cannot enter. */
export function toMinor(amount: string | number): number {
  const text = typeof amount === 'number' ? String(amount) : amount.trim();
  const match = AMOUNT.exec(text);
  if (!match) throw new TypeError(`Not an amount with at most two decimals: ${text}`);
  const minor = Number(match[2]) * 100 + Number((match[3] ?? '').padEnd(2, '0'));
  if (!Number.isSafeInteger(minor)) throw new RangeError(`Amount out of range: ${text}`);
  return match[1] ? -minor : minor;
}

/** 1999 → "19.99"; -5 → "-0.05". */
export function fromMinor(minor: number): string {
  if (!Number.isSafeInteger(minor)) throw new TypeError(`Not an integer amount of minor units: ${minor}`);
  const sign = minor < 0 ? '-' : '';
  const absolute = Math.abs(minor);
  return `${sign}${Math.trunc(absolute / 100)}.${String(absolute % 100).padStart(2, '0')}`;
}

/**
 * minor × rate, rounded half away from zero to a whole minor unit. The rate is applied in
 * integer millionths (rates have at most six decimals here: tax, commission).
 */
export function applyRate(minor: number, rate: number): number {
  const millionths = Math.round(rate * 1_000_000);
  const product = BigInt(minor) * BigInt(millionths);
  const quotient = product / 1_000_000n;
  const remainder = product % 1_000_000n;
  const absRemainder = remainder < 0n ? -remainder : remainder;
  const rounded = absRemainder * 2n >= 1_000_000n ? quotient + (product < 0n ? -1n : 1n) : quotient;
  return Number(rounded);
}

/** The whole-percent discount of price against compare-at price, rounded half up in integers: 0 when there is none. */
export function discountPercentage(priceMinor: number, compareMinor: number | null | undefined): number {
  if (!compareMinor || compareMinor <= priceMinor) return 0;
  // round(100 · (compare − price) / compare) as (x + ½) floored, in units of 1/(2·compare).
  const numerator = 200 * (compareMinor - priceMinor) + compareMinor;
  const denominator = 2 * compareMinor;
  return (numerator - (numerator % denominator)) / denominator;
}

const CURRENCY_SYMBOLS: Record<string, string> = { usd: '$', eur: '€', gbp: '£' };

/** "1234.5" in usd → "$1,234.50"; other currencies by code ("CHF 12.00"). For people (mails), never for arithmetic. */
export function formatMoney(amount: string | number, currency: string): string {
  const minor = toMinor(amount);
  const [whole, cents] = fromMinor(Math.abs(minor)).split('.');
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const symbol = CURRENCY_SYMBOLS[currency.toLowerCase()] ?? `${currency.toUpperCase()} `;
  return `${minor < 0 ? '-' : ''}${symbol}${grouped}.${cents}`;
}
