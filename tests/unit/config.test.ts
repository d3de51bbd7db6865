import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../src/config';

const strong = 'x'.repeat(40);

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'cfg-'));
}

describe('configuration', () => {
  it('uses the contract defaults', () => {
    const config = loadConfig({ DATA_DIR: tempDir() });
    expect(config.port).toBe(5000);
    expect(config.env).toBe('development');
    expect(config.jwt.expiresIn).toBe('15m');
    expect(config.jwt.refreshExpiresIn).toBe('7d');
    expect(config.bcryptRounds).toBe(12);
    expect(config.rateLimit).toEqual({ windowMs: 900_000, max: 1000, authMax: 20 });
    expect(config.commerce).toMatchObject({ currency: 'usd', taxRate: 0, commissionRate: 0.1, payoutHoldDays: 7, paymentTimeoutMinutes: 30 });
    expect(config.db.url).toBeUndefined();
    expect(config.redisUrl).toBeUndefined();
    expect(config.stripe).toBeUndefined();
    expect(config.mail.smtp).toBeUndefined();
  });

  it('names the bad variable', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(ConfigError);
    try {
      loadConfig({ PORT: 'eighty' });
    } catch (error) {
      expect((error as ConfigError).variable).toBe('PORT');
      expect((error as Error).message).toContain('PORT');
    }
    expect(() => loadConfig({ DATABASE_URL: 'mysql://x' })).toThrow(/DATABASE_URL/);
    expect(() => loadConfig({ TAX_RATE: '2' })).toThrow(/TAX_RATE/);
    expect(() => loadConfig({ JWT_EXPIRES_IN: 'forever' })).toThrow(/JWT_EXPIRES_IN/);
  });

  it('refuses a currency without two decimals, and a commission rate finer than the snapshot column', () => {
    const dir = tempDir();
    expect(() => loadConfig({ DATA_DIR: dir, CURRENCY: 'jpy' })).toThrow(/CURRENCY" must be a currency with two decimals/);
    expect(() => loadConfig({ DATA_DIR: dir, CURRENCY: 'KWD' })).toThrow(/CURRENCY/);
    expect(loadConfig({ DATA_DIR: dir, CURRENCY: 'EUR' }).commerce.currency).toBe('eur');
    expect(() => loadConfig({ DATA_DIR: dir, PLATFORM_COMMISSION_RATE: '0.12345' })).toThrow(/PLATFORM_COMMISSION_RATE/);
    expect(loadConfig({ DATA_DIR: dir, PLATFORM_COMMISSION_RATE: '0.1234' }).commerce.commissionRate).toBe(0.1234);
  });

  it('refuses missing or short secrets in production', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/JWT_SECRET is required/);
    expect(() => loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'short', JWT_REFRESH_SECRET: strong })).toThrow(/JWT_SECRET must be at least 32/);
    expect(() => loadConfig({ NODE_ENV: 'production', JWT_SECRET: strong, JWT_REFRESH_SECRET: `${strong}y`.slice(0, 20) })).toThrow(/JWT_REFRESH_SECRET/);
    expect(() => loadConfig({ NODE_ENV: 'production', JWT_SECRET: strong, JWT_REFRESH_SECRET: strong })).toThrow(/must differ/);
    const config = loadConfig({ NODE_ENV: 'production', JWT_SECRET: strong, JWT_REFRESH_SECRET: `${strong}y` });
    expect(config.isProduction).toBe(true);
  });

  it('generates development secrets once and keeps them in DATA_DIR', () => {
    const dataDir = tempDir();
    const first = loadConfig({ DATA_DIR: dataDir });
    const second = loadConfig({ DATA_DIR: dataDir });
    expect(first.jwt.secret.length).toBeGreaterThanOrEqual(32);
    expect(first.jwt.secret).not.toBe(first.jwt.refreshSecret);
    expect(second.jwt.secret).toBe(first.jwt.secret);
    expect((fs.statSync(path.join(dataDir, 'secrets.json')).mode & 0o777).toString(8)).toBe('600');
  });

  it('builds the database URL from DB_* parts and requires the rest once DB_HOST is set', () => {
    const config = loadConfig({ DATA_DIR: tempDir(), DB_HOST: 'db.internal', DB_NAME: 'shop', DB_USER: 'app', DB_PASSWORD: 'p@ss' });
    expect(config.db.url).toBe('postgres://app:p%40ss@db.internal:5432/shop');
    expect(() => loadConfig({ DATA_DIR: tempDir(), DB_HOST: 'db.internal' })).toThrow(/DB_NAME/);
  });

  it('requires the whole Cloudinary group when part of it is set', () => {
    expect(() => loadConfig({ DATA_DIR: tempDir(), CLOUDINARY_CLOUD_NAME: 'demo' })).toThrow(/CLOUDINARY_API_KEY/);
  });

  it('reads the allowed origins as a list', () => {
    const config = loadConfig({ DATA_DIR: tempDir(), ALLOWED_ORIGINS: 'https://a.test, https://b.test,' });
    expect(config.allowedOrigins).toEqual(['https://a.test', 'https://b.test']);
  });
});
