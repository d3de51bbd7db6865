import { applyRate, discountPercentage, fromMinor, toMinor } from '../../src/utils/money';

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
