import { TtlCache } from '../../src/platform/utils/ttl-cache';

describe('TtlCache', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  const sized = (maxBytes: number, maxEntries = 1000) => new TtlCache<string>({ maxEntries, maxBytes, sizeOf: (key, value) => key.length + value.length });

  it('drops expired entries by itself, with no read or write after them', () => {
    const cache = sized(1_000_000);
    for (let i = 0; i < 950; i += 1) cache.set(`/api/products?page=${'0'.repeat(i)}1`, 'x'.repeat(100), 1000);
    expect(cache.size).toBe(950);
    expect(cache.bytes).toBeGreaterThan(95_000);

    jest.advanceTimersByTime(999);
    expect(cache.size).toBe(950);
    jest.advanceTimersByTime(1001);
    expect(cache.size).toBe(0);
    expect(cache.bytes).toBe(0);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('keeps entries of a longer ttl past the sweep of the shorter ones, and sweeps them later', () => {
    const cache = new TtlCache<number>(10);
    cache.set('short', 1, 1000);
    cache.set('long', 2, 5000);
    jest.advanceTimersByTime(1500);
    expect(cache.size).toBe(1);
    expect(cache.get('long')).toBe(2);
    jest.advanceTimersByTime(4000);
    expect(cache.size).toBe(0);
  });

  it('holds at most maxBytes, the oldest entries making room', () => {
    const cache = sized(1000);
    for (let i = 0; i < 30; i += 1) cache.set(`key-${String(i).padStart(2, '0')}`, 'v'.repeat(94), 60_000);
    // Each entry is 100 bytes: the last ten stay.
    expect(cache.bytes).toBe(1000);
    expect(cache.size).toBe(10);
    expect(cache.get('key-19')).toBeUndefined();
    expect(cache.get('key-20')).toBe('v'.repeat(94));

    cache.set('big', 'v'.repeat(497), 60_000);
    expect(cache.bytes).toBeLessThanOrEqual(1000);
    expect(cache.get('big')).toBeDefined();
  });

  it('never stores a value larger than the whole cache, and counts a replaced value once', () => {
    const cache = sized(100);
    cache.set('a', 'v'.repeat(200), 60_000);
    expect(cache.size).toBe(0);
    cache.set('a', 'v'.repeat(50), 60_000);
    cache.set('a', 'v'.repeat(60), 60_000);
    expect(cache.bytes).toBe(61);
    expect(cache.size).toBe(1);
  });

  it('holds at most maxEntries', () => {
    const cache = new TtlCache<number>(3);
    for (let i = 0; i < 5; i += 1) cache.set(String(i), i, 60_000);
    expect(cache.size).toBe(3);
    expect(cache.get('0')).toBeUndefined();
    expect(cache.get('4')).toBe(4);
  });

  it('forgets everything on clear, its timer too', () => {
    const cache = sized(1000);
    cache.set('a', 'b', 1000);
    cache.clear();
    expect(cache.size).toBe(0);
    expect(cache.bytes).toBe(0);
    expect(jest.getTimerCount()).toBe(0);
  });
});
