import { planRefund, type RefundablePart } from '../../src/modules/finance/money-rules';
import { priceCart, type PricingInput, type PricingPromotion } from '../../src/modules/order/pricing';
import { AppError } from '../../src/platform/utils/errors';

const A = '00000000-0000-4000-8000-00000000000a';
const B = '00000000-0000-4000-8000-00000000000b';

function input(overrides: Partial<PricingInput> = {}): PricingInput {
  return {
    lines: [
      { itemId: 'l1', sellerId: A, productId: 'p1', categoryId: 'c1', unitPrice: 8000, quantity: 1 },
      { itemId: 'l2', sellerId: A, productId: 'p2', categoryId: 'c2', unitPrice: 1250, quantity: 2 },
      { itemId: 'l3', sellerId: B, productId: 'p3', categoryId: 'c1', unitPrice: 999, quantity: 3 },
    ],
    destination: { country: 'US', state: 'CA' },
    shippingRates: [],
    taxRate: null,
    promotion: null,
    defaults: { flatRate: 0, freeShippingThreshold: null, fallbackTax: { rate: '0.0000', appliesToShipping: false }, pricesIncludeTax: false },
    now: new Date('2026-12-06T12:00:00Z'),
    ...overrides,
  };
}

function promotion(overrides: Partial<PricingPromotion> = {}): PricingPromotion {
  return {
    id: 'promo',
    code: 'CODE',
    sellerId: null,
    type: 'percentage',
    value: 1000,
    minSubtotal: null,
    startsAt: null,
    endsAt: null,
    productIds: null,
    categoryIds: null,
    active: true,
    usageLimit: null,
    usedCount: 0,
    usageLimitPerCustomer: null,
    customerUses: 0,
    ...overrides,
  };
}

function refusal(run: () => unknown): { code: string; details: unknown } {
  try {
    run();
  } catch (error) {
    if (error instanceof AppError) return { code: error.code, details: error.details };
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('priceCart', () => {
  it('spreads a percentage over the lines by largest remainder and taxes each discounted line half up', () => {
    const priced = priceCart(input({ promotion: promotion(), taxRate: { rate: '0.0725', appliesToShipping: true } }));
    expect(priced.lines.map((line) => [line.discount, line.tax])).toEqual([
      [800, 522],
      [250, 163],
      [300, 196],
    ]);
    expect(priced).toMatchObject({ subtotal: 13497, discount: 1350, shipping: 0, tax: 881, total: 13028 });
  });

  it('prices each line alike whatever order the lines come in (the quote reads a cart by age, checkout by variant)', () => {
    // Two equal lines and an odd cent off: the cent goes to the same line both ways.
    const lines = [
      { itemId: 'item-b', sellerId: A, productId: 'p1', categoryId: 'c1', unitPrice: 1000, quantity: 1 },
      { itemId: 'item-a', sellerId: A, productId: 'p2', categoryId: 'c1', unitPrice: 1000, quantity: 1 },
    ];
    const figures = (ordered: typeof lines) =>
      Object.fromEntries(
        priceCart(input({ lines: ordered, promotion: promotion({ type: 'fixed', value: 5 }), taxRate: { rate: '0.2000', appliesToShipping: false } })).lines.map((line) => [
          line.itemId,
          [line.discount, line.tax, line.paidAmount],
        ]),
      );
    expect(figures(lines)).toEqual(figures([...lines].reverse()));
    expect(figures(lines)).toEqual({ 'item-a': [3, 199, 1196], 'item-b': [2, 200, 1198] });
  });

  it('caps a fixed amount at the eligible lines and keeps a seller code to its own lines', () => {
    const priced = priceCart(input({ promotion: promotion({ type: 'fixed', value: 50_000, sellerId: B }) }));
    expect(priced.lines.map((line) => [line.discount, line.sellerAmount, line.paidAmount])).toEqual([
      [0, 8000, 8000],
      [0, 2500, 2500],
      [2997, 0, 0],
    ]);
    expect(priced.promotion).toEqual({ id: 'promo', code: 'CODE', fundedBy: 'seller', limited: false });
  });

  it('takes tax out of tax-inclusive prices, and a platform discount leaves the seller the undiscounted line less its tax', () => {
    const single = { lines: [{ itemId: 'l1', sellerId: A, productId: 'p1', categoryId: null, unitPrice: 11999, quantity: 1 }], destination: { country: 'GB' } };
    const defaults = { flatRate: 0, freeShippingThreshold: null, fallbackTax: { rate: '0.2000', appliesToShipping: false }, pricesIncludeTax: true };
    const plain = priceCart(input({ ...single, defaults }));
    expect(plain.lines[0]).toMatchObject({ tax: 2000, sellerAmount: 9999, paidAmount: 11999 });
    expect(plain).toMatchObject({ tax: 2000, total: 11999 });
    const discounted = priceCart(input({ ...single, defaults, promotion: promotion() }));
    expect(discounted.lines[0]).toMatchObject({ discount: 1200, tax: 1800, sellerAmount: 10199, paidAmount: 10799 });
    // The platform bears exactly the discount: it takes 107.99, pays 18.00 of tax and 101.99 to the seller.
    expect(discounted.lines[0].paidAmount - discounted.lines[0].tax - discounted.lines[0].sellerAmount).toBe(-1200);
  });

  it("picks each seller's cheapest covering rate, free over its threshold, the platform default for a seller without rates", () => {
    const rates = [
      { id: 'std', sellerId: A, name: 'Standard', countries: ['US'], price: 600, freeOver: 10_000, estimatedDays: 5 },
      { id: 'eco', sellerId: A, name: 'Economy', countries: ['*'], price: 800, freeOver: null, estimatedDays: 9 },
    ];
    const defaults = { flatRate: 599, freeShippingThreshold: 5000, fallbackTax: { rate: '0.0000', appliesToShipping: false }, pricesIncludeTax: false };
    const priced = priceCart(input({ shippingRates: rates, defaults }));
    expect(priced.shippingLines.map((parcel) => [parcel.sellerId, parcel.rateId, parcel.amount])).toEqual([
      [A, 'std', 0],
      [B, null, 599],
    ]);
    // A 10 % code brings seller A under the threshold: the rate applies again.
    const discounted = priceCart(input({ shippingRates: rates, defaults, promotion: promotion() }));
    expect(discounted.shippingLines[0]).toMatchObject({ rateId: 'std', amount: 600 });
    const abroad = priceCart(input({ shippingRates: rates, defaults, destination: { country: 'FR' } }));
    expect(abroad.shippingLines[0]).toMatchObject({ rateId: 'eco', amount: 800 });
    expect(refusal(() => priceCart(input({ shippingRates: rates, chosenRates: { [A]: 'std' }, destination: { country: 'FR' } })))).toMatchObject({ code: 'SHIPPING_UNAVAILABLE' });
  });

  it('takes a free-shipping code off the parcels of sellers with an eligible line; a seller who funds it is credited no shipping', () => {
    const defaults = { flatRate: 500, freeShippingThreshold: null, fallbackTax: { rate: '0.1000', appliesToShipping: true }, pricesIncludeTax: false };
    const priced = priceCart(input({ defaults, promotion: promotion({ type: 'free_shipping', value: null, sellerId: B }) }));
    expect(priced.shippingLines.map((parcel) => [parcel.amount, parcel.discount, parcel.tax, parcel.sellerAmount, parcel.paidAmount])).toEqual([
      [500, 0, 50, 500, 550],
      [500, 500, 0, 0, 0],
    ]);
    expect(priced).toMatchObject({ shipping: 1000, discount: 500 });
  });

  it('says why a code does not apply', () => {
    const reason = (overrides: Partial<PricingPromotion>) => (refusal(() => priceCart(input({ promotion: promotion(overrides) }))).details as Array<{ reason: string }>)[0].reason;
    expect(reason({ active: false })).toBe('inactive');
    expect(reason({ startsAt: new Date('2026-12-07T00:00:00Z') })).toBe('not_started');
    expect(reason({ endsAt: new Date('2026-12-06T12:00:00Z') })).toBe('ended');
    expect(reason({ usageLimit: 3, usedCount: 3 })).toBe('used_up');
    expect(reason({ usageLimitPerCustomer: 1, customerUses: 1 })).toBe('already_used');
    expect(reason({ productIds: ['p9'] })).toBe('no_eligible_line');
    expect(reason({ categoryIds: ['c1'], minSubtotal: 11_000 })).toBe('minimum_subtotal');
  });
});

describe('planRefund', () => {
  const parts: RefundablePart[] = [
    { id: 'l1', kind: 'line', sellerId: A, paid: 7722, paidRefunded: 0, credited: 8000, creditRefunded: 0 },
    { id: 'l2', kind: 'line', sellerId: B, paid: 2893, paidRefunded: 0, credited: 2997, creditRefunded: 0 },
    { id: 'sA', kind: 'shipping', sellerId: A, paid: 1609, paidRefunded: 0, credited: 1500, creditRefunded: 0 },
    { id: 'sB', kind: 'shipping', sellerId: B, paid: 483, paidRefunded: 0, credited: 450, creditRefunded: 0 },
  ];

  it("refunds a seller's lines whole, with that seller's parcel once none of their lines is left", () => {
    const plan = planRefund(parts, { itemIds: ['l2'] });
    expect(plan.amount).toBe(2893 + 483);
    expect(Object.fromEntries(plan.shares)).toEqual({ l2: { paid: 2893, credited: 2997 }, sB: { paid: 483, credited: 450 } });
  });

  it('spreads any other amount over the lines first, the seller giving back the same fraction, and the shipping only past the lines', () => {
    const partial = planRefund(parts, { amount: 1000 });
    expect(partial.amount).toBe(1000);
    expect(Object.fromEntries(partial.shares)).toEqual({ l1: { paid: 727, credited: 753 }, l2: { paid: 273, credited: 283 } });
    const beyond = planRefund(parts, { amount: 7722 + 2893 + 100 });
    expect(beyond.shares.get('l1')).toEqual({ paid: 7722, credited: 8000 });
    expect([...beyond.shares.values()].reduce((sum, share) => sum + share.paid, 0)).toBe(7722 + 2893 + 100);
    const everything = planRefund(parts, {});
    expect(everything.amount).toBe(7722 + 2893 + 1609 + 483);
    expect([...everything.shares.values()].reduce((sum, share) => sum + share.credited, 0)).toBe(8000 + 2997 + 1500 + 450);
  });
});
