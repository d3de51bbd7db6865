import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, estimatedSecretBits, loadConfig } from '../../src/platform/config';

/** What `openssl rand -base64 48` makes. */
const random = () => randomBytes(48).toString('base64');
const strong = random();

/** A production environment that starts: a database, random secrets; each test changes one thing. */
function production(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    NODE_ENV: 'production',
    DATA_DIR: tempDir(),
    DATABASE_URL: 'postgres://app:pw@db.internal:5432/shop',
    JWT_SECRET: strong,
    JWT_REFRESH_SECRET: random(),
    FRONTEND_URL: 'https://shop.example.com',
    APP_URL: 'https://api.example.com',
    ...overrides,
  };
}

function errorOf(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

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
    expect(() => loadConfig(production({ JWT_SECRET: 'short' }))).toThrow(/JWT_SECRET must be at least 32/);
    expect(() => loadConfig(production({ JWT_REFRESH_SECRET: random().slice(0, 20) }))).toThrow(/JWT_REFRESH_SECRET/);
    expect(() => loadConfig(production({ JWT_REFRESH_SECRET: strong }))).toThrow(/must differ/);
    const config = loadConfig(production());
    expect(config.isProduction).toBe(true);
    expect(config.warnings).toEqual([]);
  });

  it.each([
    ['one repeated character', 'a'.repeat(32)],
    ['one repeated character, long', 'x'.repeat(64)],
    ['a placeholder repeated', 'changeme'.repeat(4)],
    ['"your-secret-key" repeated', 'your-secret-key'.repeat(3)],
    ['a tutorial placeholder', 'your-super-secret-jwt-key-change-this-in-production'],
    ['a short pattern repeated', '0123456789'.repeat(4)],
    ['a word and digits repeated', 'password1234'.repeat(3)],
    // Many different characters, so a high entropy estimate, and still the first guesses a cracker makes.
    ['the alphabet and digits in order', 'abcdefghijklmnopqrstuvwxyz012345'],
    ['the digits in order', '01234567890123456789012345678901'],
    ['the alphabet backwards', 'zyxwvutsrqponmlkjihgfedcba987654'],
    ['the alphabet in capitals', 'ABCDEFGHIJKLMNOPQRSTUVWXYZ-23456'],
    ['keyboard rows', 'qwertyuiopasdfghjklzxcvbnm123456'],
    ['a keyboard row repeated', 'qwertyuiop'.repeat(4)],
    ['shifted keyboard rows', '!@#$%^&*()_+QWERTYUIOP{}ASDFGHJKL'],
    ['keyboard columns', '1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9'],
    ['a short block repeated', 'abc'.repeat(11)],
    ['a mixed block repeated', 'Xk9#'.repeat(8)],
    ['a random-looking block repeated', 'h7Rq2LmZ'.repeat(5)],
    ['few different characters', '0110100110010110100101100110100110010110'],
  ])('refuses a production JWT secret of low entropy: %s', (_what, secret) => {
    for (const name of ['JWT_SECRET', 'JWT_REFRESH_SECRET']) {
      const error = errorOf(() => loadConfig(production({ [name]: secret })));
      expect(error.variable).toBe(name);
      expect(error.message).toMatch(new RegExp(`^${name} is too easy to guess \\(.+\\); generate one with: openssl rand -base64 48$`));
    }
    // Development takes what it is given: the rule guards deployments, not laptops.
    expect(loadConfig({ DATA_DIR: tempDir(), JWT_SECRET: secret }).jwt.secret).toBe(secret);
  });

  it('says what the pattern is', () => {
    expect(errorOf(() => loadConfig(production({ JWT_SECRET: 'abcdefghijklmnopqrstuvwxyz012345' }))).message).toMatch(/a run such as abcd/);
    expect(errorOf(() => loadConfig(production({ JWT_SECRET: 'qwertyuiopasdfghjklzxcvbnm123456' }))).message).toMatch(/a keyboard row/);
    expect(errorOf(() => loadConfig(production({ JWT_SECRET: 'h7Rq2LmZ'.repeat(5) }))).message).toMatch(/a repeated block/);
    expect(errorOf(() => loadConfig(production({ JWT_SECRET: '01'.repeat(20) }))).message).toMatch(/only 2 different characters/);
  });

  it('accepts the secrets the usual generators make', () => {
    const generated = [
      // One output of `openssl rand -base64 48`, then fresh ones of the usual generators.
      'N4kpLCQPkY4hC+KGatNuSW7amDURPiaPIRv2lQbAbSbm1NuiL0T3T9N9zDfGrbB3',
      randomBytes(48).toString('base64'),
      randomBytes(16).toString('hex'), // openssl rand -hex 16: the shortest accepted length
      randomBytes(32).toString('hex'),
      randomBytes(32).toString('base64'),
      randomBytes(24).toString('base64url'),
      randomUUID(),
    ];
    for (const secret of generated) {
      expect(estimatedSecretBits(secret)).toBeGreaterThanOrEqual(64);
      expect(loadConfig(production({ JWT_SECRET: secret })).jwt.secret).toBe(secret);
    }
  });

  it('accepts every one of many random secrets (no false refusals by chance)', () => {
    for (let i = 0; i < 300; i += 1) {
      for (const secret of [randomBytes(48).toString('base64'), randomBytes(16).toString('hex'), randomBytes(24).toString('base64url')]) {
        expect([secret, estimatedSecretBits(secret) >= 64]).toEqual([secret, true]);
      }
    }
  });

  it('refuses to run production on the embedded database, naming DATABASE_URL', () => {
    const { DATABASE_URL: _url, ...withoutDatabase } = production();
    const error = errorOf(() => loadConfig(withoutDatabase));
    expect(error.variable).toBe('DATABASE_URL');
    expect(error.message).toMatch(/DATABASE_URL \(or DB_HOST/);
    const parts = loadConfig({ ...withoutDatabase, DB_HOST: 'db.internal', DB_NAME: 'shop', DB_USER: 'app', DB_PASSWORD: 'pw' });
    expect(parts.db.url).toBe('postgres://app:pw@db.internal:5432/shop');
  });

  it('refuses BCRYPT_ROUNDS under 10 in production', () => {
    expect(errorOf(() => loadConfig(production({ BCRYPT_ROUNDS: '9' }))).variable).toBe('BCRYPT_ROUNDS');
    expect(loadConfig(production({ BCRYPT_ROUNDS: '10' })).bcryptRounds).toBe(10);
    expect(loadConfig({ DATA_DIR: tempDir(), BCRYPT_ROUNDS: '4' }).bcryptRounds).toBe(4);
  });

  it('refuses webhooks to private addresses in production', () => {
    expect(errorOf(() => loadConfig(production({ WEBHOOK_ALLOW_PRIVATE_URLS: 'true' }))).variable).toBe('WEBHOOK_ALLOW_PRIVATE_URLS');
    expect(loadConfig(production()).webhooks.allowPrivateUrls).toBe(false);
    expect(loadConfig({ DATA_DIR: tempDir(), WEBHOOK_ALLOW_PRIVATE_URLS: 'true' }).webhooks.allowPrivateUrls).toBe(true);
  });

  it('never seeds demo data in production, and refuses to be asked to', () => {
    expect(loadConfig(production()).seedDemoData).toBe(false);
    expect(loadConfig(production({ SEED_DEMO_DATA: 'false' })).seedDemoData).toBe(false);
    expect(errorOf(() => loadConfig(production({ SEED_DEMO_DATA: 'true' }))).variable).toBe('SEED_DEMO_DATA');
    expect(loadConfig({ DATA_DIR: tempDir() }).seedDemoData).toBe(true);
  });

  it('warns in production when links would point at localhost', () => {
    const local = loadConfig(production({ FRONTEND_URL: 'http://localhost:3000' }));
    expect(local.warnings).toEqual([expect.stringMatching(/^FRONTEND_URL is http:\/\/localhost:3000: links in mails/)]);
    const { FRONTEND_URL: _frontend, APP_URL: _app, ...defaults } = production();
    expect(loadConfig(defaults).warnings).toEqual([expect.stringMatching(/^FRONTEND_URL/), expect.stringMatching(/^APP_URL/)]);
    expect(loadConfig(production({ FRONTEND_URL: 'http://127.0.0.1:8080' })).warnings).toHaveLength(1);
    expect(loadConfig({ DATA_DIR: tempDir() }).warnings).toEqual([]);
  });

  it('takes METRICS_TOKEN, and refuses a weak one in production', () => {
    const token = randomBytes(32).toString('hex');
    expect(loadConfig(production({ METRICS_TOKEN: token })).metricsToken).toBe(token);
    expect(loadConfig(production()).metricsToken).toBeUndefined();
    expect(errorOf(() => loadConfig(production({ METRICS_TOKEN: 'metrics'.repeat(5) }))).variable).toBe('METRICS_TOKEN');
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

  it('reads DATABASE_REPLICA_URLS as a list of PostgreSQL URLs, none when unset or empty', () => {
    expect(loadConfig({ DATA_DIR: tempDir() }).db.replicaUrls).toEqual([]);
    expect(loadConfig({ DATA_DIR: tempDir(), DATABASE_REPLICA_URLS: '' }).db.replicaUrls).toEqual([]);
    const config = loadConfig({ DATA_DIR: tempDir(), DATABASE_REPLICA_URLS: 'postgres://app:pw@replica-1:5432/shop, postgresql://app:pw@replica-2/shop,' });
    expect(config.db.replicaUrls).toEqual(['postgres://app:pw@replica-1:5432/shop', 'postgresql://app:pw@replica-2/shop']);
    const error = errorOf(() => loadConfig({ DATA_DIR: tempDir(), DATABASE_REPLICA_URLS: 'postgres://replica-1/shop,mysql://replica-2/shop' }));
    expect(error.variable).toBe('DATABASE_REPLICA_URLS');
    expect(error.message).toContain('mysql://replica-2/shop is not one');
  });

  it('requires the whole Cloudinary group when part of it is set', () => {
    expect(() => loadConfig({ DATA_DIR: tempDir(), CLOUDINARY_CLOUD_NAME: 'demo' })).toThrow(/CLOUDINARY_API_KEY/);
  });

  it('reads the allowed origins as a list', () => {
    const config = loadConfig({ DATA_DIR: tempDir(), ALLOWED_ORIGINS: 'https://a.test, https://b.test,' });
    expect(config.allowedOrigins).toEqual(['https://a.test', 'https://b.test']);
  });

  it('allows FRONTEND_URL and, outside production, the usual dev-server origins when ALLOWED_ORIGINS is empty', () => {
    const development = loadConfig({ DATA_DIR: tempDir(), FRONTEND_URL: 'http://shop.test/' });
    expect(development.allowedOrigins).toEqual(expect.arrayContaining(['http://shop.test', 'http://localhost:5173', 'http://127.0.0.1:4200', 'http://localhost:8080']));
    const listed = loadConfig({ DATA_DIR: tempDir(), ALLOWED_ORIGINS: 'https://a.test, https://b.test' });
    expect(listed.allowedOrigins).toEqual(['https://a.test', 'https://b.test']);
  });
});
