// Before anything reads the configuration: a TTL of one second, so that expiry shows within the test (other tests turn the cache off).
process.env.PUBLIC_CACHE_TTL_MS = '1000';

import request from 'supertest';
import { config } from '../../src/platform/config';
import { createCategory } from '../fixtures';
import { useTestApp } from '../support/app';
import { forgetResponses, RESPONSE_CACHE_MAX_BYTES, responseCacheStats } from '../../src/platform/utils/response-cache';

describe('public response cache: expiry and size', () => {
  const ctx = useTestApp();

  it('frees the answers of a burst once their TTL and the time they may be served stale have passed, with no request after it', async () => {
    expect(config.publicCacheTtlMs).toBe(1000);
    forgetResponses();
    const category = await createCategory();
    for (let page = 1; page <= 20; page += 1) {
      const res = await request(ctx.app).get('/api/products').query({ category: category.id, page });
      expect(res.headers['x-cache']).toBe('MISS');
    }
    const filled = responseCacheStats();
    expect(filled.entries).toBe(20);
    expect(filled.bytes).toBeGreaterThan(0);

    // Nothing reads or writes the cache from here on: its own sweep (at most a second after the
    // last expiry, two TTLs after each answer was kept) must empty it.
    await new Promise((resolve) => setTimeout(resolve, 3500));
    expect(responseCacheStats()).toEqual({ entries: 0, bytes: 0 });
  });

  it('counts what it holds in bytes, within its bound', async () => {
    forgetResponses();
    const res = await request(ctx.app).get('/api/categories');
    expect(res.status).toBe(200);
    const { bytes } = responseCacheStats();
    expect(bytes).toBeGreaterThanOrEqual(Buffer.byteLength(res.text));
    expect(bytes).toBeLessThanOrEqual(RESPONSE_CACHE_MAX_BYTES);
  });
});
