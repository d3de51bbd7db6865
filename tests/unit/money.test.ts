import { allocateRefund, lineCommission, lineNet } from '../../src/modules/finance/money-rules';
import { applyRate, discountPercentage, fromMinor, toMinor } from '../../src/platform/utils/money';

describe('money', () => {
  it('reads amounts into minor units without float drift', () => {
    expect(toMinor('19.99')).toBe(1999);
    expect(toMinor('0.1')).toBe(10);
    expect(toMinor(0.3)).toBe(30);
    expect(toMinor(19.99)).toBe(1999);
    expect(toMinor('1000000.00')).toBe(100_000_000);
    expect(toMinor('-0.05')).toBe(-5);
    expect(() => toMinor('1.999')).toThrow(TypeError);
    expect(() => toMinor('abc')).toThrow(TypeError);
    expect(() => toMinor(1e21)).toThrow();
  });

  it('writes minor units with two decimals', () => {
    expect(fromMinor(1999)).toBe('19.99');
    expect(fromMinor(5)).toBe('0.05');
    expect(fromMinor(0)).toBe('0.00');
    expect(fromMinor(-5)).toBe('-0.05');
    expect(() => fromMinor(1.5)).toThrow(TypeError);
  });

  it('sums exactly where floats do not', () => {
    const total = ['0.10', '0.20'].map(toMinor).reduce((a, b) => a + b, 0);
    expect(fromMinor(total)).toBe('0.30');
  });

  it('applies a rate with half-up rounding to whole minor units', () => {
    expect(applyRate(1999, 0.1)).toBe(200);
    expect(applyRate(1005, 0.1)).toBe(101);
    expect(applyRate(1000, 0.0825)).toBe(83);
    expect(applyRate(0, 0.5)).toBe(0);
    expect(applyRate(-1005, 0.1)).toBe(-101);
  });

  it('computes the discount percentage in integers', () => {
    expect(discountPercentage(7500, 10000)).toBe(25);
    expect(discountPercentage(10000, 10000)).toBe(0);
    expect(discountPercentage(10000, null)).toBe(0);
    expect(discountPercentage(6667, 10000)).toBe(33);
  });
});

describe('money rules', () => {
  it('splits a refund over lines in proportion to what each has left, to the cent', () => {
    const shares = allocateRefund(
      1000,
      [
        { id: 'a', remaining: 3000 },
        { id: 'b', remaining: 1500 },
        { id: 'c', remaining: 1500 },
      ],
      6000,
    );
    expect(Object.fromEntries(shares)).toEqual({ a: 500, b: 250, c: 250 });
    const odd = allocateRefund(3, [
      { id: 'a', remaining: 1 },
      { id: 'b', remaining: 1 },
      { id: 'c', remaining: 1 },
    ], 3);
    expect([...odd.values()].reduce((sum, share) => sum + share, 0)).toBe(3);
    const uneven = allocateRefund(10, [
      { id: 'a', remaining: 3 },
      { id: 'b', remaining: 3 },
      { id: 'c', remaining: 3 },
    ], 9);
    expect([...uneven.values()].reduce((sum, share) => sum + share, 0)).toBe(9);
    const third = allocateRefund(100, [
      { id: 'a', remaining: 100 },
      { id: 'b', remaining: 100 },
      { id: 'c', remaining: 100 },
    ], 300);
    expect([...third.values()].sort()).toEqual([33, 33, 34]);
    expect(allocateRefund(500, [{ id: 'a', remaining: 0 }], 500).size).toBe(0);
    // Tax and shipping keep their share: 8.25 of an order of 100.00 + 8.25 tax puts 7.62 on the line.
    expect(allocateRefund(825, [{ id: 'a', remaining: 10000 }], 10825).get('a')).toBe(762);
    expect(allocateRefund(10825, [{ id: 'a', remaining: 10000 }], 10825).get('a')).toBe(10000);
  });

  it('rounds commission half up on what was not refunded', () => {
    expect(lineCommission(1005, 0, 0.1)).toBe(101);
    expect(lineCommission(1000, 500, 0.15)).toBe(75);
    expect(lineNet(1000, 500, 0.15)).toBe(425);
  });
});
