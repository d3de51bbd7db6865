import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import dotenv from 'dotenv';
import Joi from 'joi';
import { analyzeSecret, MIN_DISTINCT_CHARACTERS, PATTERN_NAMES } from './secret-strength';

export { estimatedSecretBits } from './secret-strength';

/**
 * The only module that reads process.env. Everything else imports `config`.
 * Values are validated once at start; a bad variable stops the process before it listens.
 */

export class ConfigError extends Error {
  constructor(
    message: string,
    readonly variable?: string,
  ) {
    super(message);
    this.name = 'ConfigError';
  }
}

const MIN_SECRET_LENGTH = 32;
/**
 * Bits a production secret must carry once placeholder words, runs, keyboard walks and repeated
 * blocks are taken out. A random 32-character hex string (`openssl rand -hex 16`) estimates at 70
 * bits or more; `'a' × 32`, `abcd…`, `qwerty…` or `changeme` repeated estimate near zero.
 */
const MIN_SECRET_BITS = 64;
/** bcrypt costs below this are cheap enough to brute-force a leaked hash table. */
const MIN_PRODUCTION_BCRYPT_ROUNDS = 10;
const duration = Joi.string().pattern(/^\d+(ms|s|m|h|d)?$/, 'a duration such as 15m, 7d or 3600');
const money = Joi.alternatives(Joi.number().min(0).max(99_999_999.99), Joi.string().pattern(/^\d+(\.\d{1,2})?$/));
const commaList = Joi.string().allow('');
const postgresUrl = Joi.string().uri({ scheme: ['postgres', 'postgresql'] });
/** Comma-separated PostgreSQL URLs (blanks around commas and empty items ignored), each validated as DATABASE_URL is. */
const postgresUrlList = Joi.string()
  .allow('')
  .custom((value: string, helpers) => {
    for (const item of value.split(',').map((part) => part.trim()).filter(Boolean)) {
      if (postgresUrl.validate(item).error) return helpers.error('string.postgresUrlList', { item });
    }
    return value;
  })
  .messages({ 'string.postgresUrlList': '{{#label}} must be comma-separated postgres:// URLs; {{#item}} is not one' });

/** ISO 4217 currencies Stripe charges with zero or three decimals. */
const NOT_TWO_DECIMAL_CURRENCIES = [
  'bif', 'clp', 'djf', 'gnf', 'jpy', 'kmf', 'krw', 'mga', 'pyg', 'rwf', 'ugx', 'vnd', 'vuv', 'xaf', 'xof', 'xpf',
  'bhd', 'jod', 'kwd', 'omr', 'tnd',
];

const envSchema = Joi.object({
  NODE_ENV: Joi.string().valid('development', 'production', 'test').default('development'),
  PORT: Joi.number().port().default(5000),
  HOST: Joi.string().default('0.0.0.0'),
  LOG_LEVEL: Joi.string().valid('error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly').default('info'),
  DATA_DIR: Joi.string().default('./.data'),

  DATABASE_URL: postgresUrl,
  DATABASE_REPLICA_URLS: postgresUrlList,
  DB_HOST: Joi.string().hostname(),
  DB_PORT: Joi.number().port().default(5432),
  DB_NAME: Joi.string(),
  DB_USER: Joi.string(),
  DB_PASSWORD: Joi.string().allow(''),
  DB_POOL_MAX: Joi.number().integer().min(1).max(200).default(10),
  EMBEDDED_PG_PORT: Joi.number().port(),

  REDIS_URL: Joi.string().uri({ scheme: ['redis', 'rediss'] }),
  REDIS_PREFIX: Joi.string().pattern(/^[A-Za-z0-9_-]{1,40}$/).default('mp'),

  JWT_SECRET: Joi.string(),
  JWT_REFRESH_SECRET: Joi.string(),
  JWT_EXPIRES_IN: duration.default('15m'),
  JWT_REFRESH_EXPIRES_IN: duration.default('7d'),
  BCRYPT_ROUNDS: Joi.number().integer().min(4).max(15).default(12),
  METRICS_TOKEN: Joi.string(),

  STRIPE_SECRET_KEY: Joi.string(),
  STRIPE_WEBHOOK_SECRET: Joi.string(),
  STRIPE_API_HOST: Joi.string(),
  STRIPE_API_PORT: Joi.number().port(),
  STRIPE_API_PROTOCOL: Joi.string().valid('http', 'https'),
  STRIPE_TIMEOUT_MS: Joi.number().integer().min(100).max(120_000).default(10_000),
  PROVIDER_RETRY_DELAY_MS: Joi.number().integer().min(0).max(3_600_000).default(30_000),

  SMTP_HOST: Joi.string(),
  SMTP_PORT: Joi.number().port().default(587),
  SMTP_USER: Joi.string(),
  SMTP_PASS: Joi.string(),
  SMTP_SECURE: Joi.boolean().truthy('1').falsy('0'),
  MAIL_FROM: Joi.string().default('Marketplace <no-reply@localhost>'),

  CLOUDINARY_CLOUD_NAME: Joi.string(),
  CLOUDINARY_API_KEY: Joi.string(),
  CLOUDINARY_API_SECRET: Joi.string(),
  CLOUDINARY_UPLOAD_PREFIX: Joi.string().uri({ scheme: ['http', 'https'] }),
  UPLOAD_MAX_BYTES: Joi.number().integer().min(1024).default(5 * 1024 * 1024),
  UPLOAD_MAX_PIXELS: Joi.number().integer().min(1).max(1_000_000_000).default(40_000_000),
  UPLOAD_MAX_PER_HOUR: Joi.number().integer().min(1).default(100),

  FRONTEND_URL: Joi.string().uri({ scheme: ['http', 'https'] }).default('http://localhost:3000'),
  APP_URL: Joi.string().uri({ scheme: ['http', 'https'] }),
  ALLOWED_ORIGINS: commaList.default(''),
  COMPANY_NAME: Joi.string().default('Marketplace'),
  SUPPORT_EMAIL: Joi.string().email({ tlds: false }).default('support@localhost'),

  RATE_LIMIT_WINDOW_MS: Joi.number().integer().min(1000).default(900_000),
  RATE_LIMIT_MAX: Joi.number().integer().min(1).default(1000),
  AUTH_RATE_LIMIT_MAX: Joi.number().integer().min(1).default(20),
  TRUST_PROXY: Joi.alternatives(Joi.boolean(), Joi.number().integer().min(0), Joi.string()).default(false),
  JSON_BODY_LIMIT: Joi.string().default('100kb'),
  SHUTDOWN_TIMEOUT_MS: Joi.number().integer().min(0).default(10_000),

  // Amounts are kept with two decimals: currencies with another minor unit would be charged wrong.
  CURRENCY: Joi.string()
    .lowercase()
    .length(3)
    .invalid(...NOT_TWO_DECIMAL_CURRENCIES)
    .messages({ 'any.invalid': '{{#label}} must be a currency with two decimals (cents); zero- and three-decimal currencies are not supported' })
    .default('usd'),
  TAX_RATE: Joi.number().min(0).max(1).precision(4).default(0),
  PRICES_INCLUDE_TAX: Joi.boolean().default(false),
  SHIPPING_FLAT_RATE: money.default(0),
  FREE_SHIPPING_THRESHOLD: money,
  // Snapshotted on each order line as numeric(5,4): a finer rate would be rounded there, silently.
  PLATFORM_COMMISSION_RATE: Joi.string()
    .pattern(/^(0(\.\d{1,4})?|1(\.0{1,4})?)$/)
    .messages({ 'string.pattern.base': '{{#label}} must be a rate from 0 to 1 with at most four decimals' })
    .default('0.1'),
  PAYOUT_HOLD_DAYS: Joi.number().integer().min(0).default(7),
  RETURN_WINDOW_DAYS: Joi.number().integer().min(0).max(3650).default(30),
  WEBHOOK_ALLOW_PRIVATE_URLS: Joi.boolean().default(false),
  ORDER_PAYMENT_TIMEOUT_MINUTES: Joi.number().integer().min(1).default(30),

  PUBLIC_CACHE_TTL_MS: Joi.number().integer().min(0).max(60_000).default(5000),
  LISTING_TOTALS_TTL_MS: Joi.number().integer().min(0).max(600_000).default(10_000),
  JOBS_IN_API: Joi.boolean().truthy('1').falsy('0'),
  SEED_DEMO_DATA: Joi.boolean().truthy('1').falsy('0').default(true),
})
  .unknown(true)
  .prefs({ convert: true, abortEarly: true });

/** Every variable the configuration reads, with the default the schema applies (undefined: none). */
export function environmentVariables(): Array<{ name: string; defaultValue: unknown }> {
  const keys = (envSchema.describe().keys ?? {}) as Record<string, { flags?: { default?: unknown } }>;
  return Object.entries(keys).map(([name, description]) => ({ name, defaultValue: description.flags?.default }));
}

export type NodeEnv = 'development' | 'production' | 'test';

export interface DatabaseConfig {
  /** A connection string, or undefined to start the embedded PostgreSQL under dataDir. */
  url?: string;
  poolMax: number;
  embeddedPort?: number;
  /** Streaming replicas that serve catalog reads and statistics (empty: everything reads the primary). */
  replicaUrls: string[];
}

export interface AppConfig {
  env: NodeEnv;
  isProduction: boolean;
  isTest: boolean;
  port: number;
  host: string;
  logLevel: string;
  dataDir: string;
  appUrl: string;
  db: DatabaseConfig;
  redisUrl?: string;
  /** Namespace of every key this app writes to Redis (queues, rate limits, counters). */
  redisPrefix: string;
  jwt: { secret: string; refreshSecret: string; expiresIn: string; refreshExpiresIn: string; issuer: string; audience: string };
  bcryptRounds: number;
  stripe?: {
    secretKey: string;
    webhookSecret?: string;
    host?: string;
    port?: number;
    protocol?: 'http' | 'https';
    timeoutMs: number;
    /** How long the job behind a refund or intent cancel waits before it calls Stripe (the request tries first). */
    retryDelayMs: number;
  };
  mail: {
    from: string;
    smtp?: { host: string; port: number; secure: boolean; user?: string; pass?: string };
  };
  cloudinary?: { cloudName: string; apiKey: string; apiSecret: string; uploadPrefix?: string };
  uploadMaxBytes: number;
  /** Decoded pixels an uploaded image may have (all frames of an animation together). */
  uploadMaxPixels: number;
  /** Images one user may upload in any hour. */
  uploadMaxPerHour: number;
  frontendUrl: string;
  allowedOrigins: string[];
  companyName: string;
  supportEmail: string;
  rateLimit: { windowMs: number; max: number; authMax: number };
  trustProxy: boolean | number | string;
  jsonBodyLimit: string;
  shutdownTimeoutMs: number;
  commerce: {
    currency: string;
    /** The tax rate where no tax rate of the destination matches. */
    taxRate: number;
    /** Prices (and shipping rates) include tax: the tax is the part of them that is tax. */
    pricesIncludeTax: boolean;
    shippingFlatRate: string;
    freeShippingThreshold?: string;
    commissionRate: number;
    payoutHoldDays: number;
    /** Days after delivery a return may be asked; 0 closes returns. */
    returnWindowDays: number;
    paymentTimeoutMinutes: number;
  };
  /** How long a catalog listing's total is reused for the same filters (0: count every time). */
  listingTotalsTtlMs: number;
  webhooks: {
    /** Let outgoing webhooks reach private and loopback addresses (development, tests). */
    allowPrivateUrls: boolean;
  };
  /** How long an anonymous catalog answer is served again (0: never). */
  publicCacheTtlMs: number;
  jobsInApi: boolean;
  seedDemoData: boolean;
  /** Bearer token that /metrics requires in production; without one /metrics is hidden there. */
  metricsToken?: string;
  /** Settings that are allowed but probably wrong (e.g. localhost links in production), logged at start. */
  warnings: string[];
}

type Env = Record<string, string | undefined>;

function databaseUrlFromParts(env: Record<string, unknown>): string | undefined {
  if (env.DATABASE_URL) return String(env.DATABASE_URL);
  if (!env.DB_HOST) return undefined;
  for (const name of ['DB_NAME', 'DB_USER']) {
    if (!env[name]) throw new ConfigError(`${name} is required when DB_HOST is set`, name);
  }
  const user = encodeURIComponent(String(env.DB_USER));
  const password = env.DB_PASSWORD ? `:${encodeURIComponent(String(env.DB_PASSWORD))}` : '';
  return `postgres://${user}${password}@${env.DB_HOST}:${env.DB_PORT}/${encodeURIComponent(String(env.DB_NAME))}`;
}

/**
 * In development and test a missing JWT secret is generated once and kept in DATA_DIR,
 * so tokens survive restarts without anyone having to invent a secret.
 */
function developmentSecret(dataDir: string, name: string): string {
  const file = path.join(dataDir, 'secrets.json');
  let secrets: Record<string, string> = {};
  try {
    secrets = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, string>;
  } catch {
    secrets = {};
  }
  if (!secrets[name]) {
    secrets[name] = crypto.randomBytes(48).toString('base64url');
    fs.mkdirSync(dataDir, { recursive: true });
    fs.writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  }
  return secrets[name];
}

/** Production secrets must be long and not guessable; the error names the variable and says how to make one. */
function assertStrongSecret(value: string, name: string): void {
  if (value.length < MIN_SECRET_LENGTH) {
    throw new ConfigError(`${name} must be at least ${MIN_SECRET_LENGTH} characters in production`, name);
  }
  // Patterns are refused however many different characters they hold: a run of the alphabet
  // rates high by character counts alone, and is the first thing a cracker tries.
  const { bits, distinctCharacters, patterns } = analyzeSecret(value);
  if (bits < MIN_SECRET_BITS || distinctCharacters < MIN_DISTINCT_CHARACTERS) {
    const reasons = patterns.map((pattern) => PATTERN_NAMES[pattern]);
    if (distinctCharacters < MIN_DISTINCT_CHARACTERS) reasons.push(`only ${distinctCharacters} different characters`);
    if (reasons.length === 0) reasons.push('too few random characters');
    throw new ConfigError(`${name} is too easy to guess (${reasons.join(', ')}); generate one with: openssl rand -base64 48`, name);
  }
}

function requireSecret(value: unknown, name: string, env: NodeEnv, dataDir: string): string {
  if (typeof value === 'string' && value.length > 0) {
    if (env === 'production') assertStrongSecret(value, name);
    return value;
  }
  if (env === 'production') throw new ConfigError(`${name} is required in production`, name);
  return developmentSecret(dataDir, name);
}

const LOCAL_HOSTNAMES = new Set(['localhost', '127.0.0.1', '[::1]', '0.0.0.0']);

function isLocalUrl(url: string): boolean {
  const { hostname } = new URL(url);
  return LOCAL_HOSTNAMES.has(hostname) || hostname.endsWith('.localhost');
}

function groupIfAny<T>(names: string[], env: Record<string, unknown>, build: () => T): T | undefined {
  const present = names.filter((name) => env[name] !== undefined);
  if (present.length === 0) return undefined;
  const missing = names.find((name) => env[name] === undefined);
  if (missing) throw new ConfigError(`${missing} is required when ${present.join(', ')} is set`, missing);
  return build();
}

/** Builds the configuration from an environment; throws ConfigError naming the first bad variable. */
/** The dev servers a storefront or dashboard is usually started on (Next/CRA, Angular, Vite, Vue CLI). */
const DEV_SERVER_ORIGINS = [3000, 4200, 5173, 8080].flatMap((port) => [`http://localhost:${port}`, `http://127.0.0.1:${port}`]);

/**
 * ALLOWED_ORIGINS, or when it is empty FRONTEND_URL, and outside production the usual dev-server
 * origins too, so that a frontend started locally works on the first try.
 */
function allowedOriginsOf(list: string, frontendUrl: string, production: boolean): string[] {
  const given = list
    .split(',')
    .map((origin) => origin.trim())
    .filter(Boolean);
  if (given.length > 0) return given;
  return [...new Set([frontendUrl, ...(production ? [] : DEV_SERVER_ORIGINS)])];
}

export function loadConfig(rawEnv: Env = process.env): AppConfig {
  // `NAME=` in a .env file means "not set", as it does for most tools.
  const present = Object.fromEntries(Object.entries(rawEnv).filter(([, value]) => value !== undefined && value !== ''));
  const { value, error } = envSchema.validate(present);
  if (error) {
    const variable = String(error.details[0]?.path[0] ?? '');
    throw new ConfigError(`Invalid environment variable ${variable}: ${error.details[0]?.message ?? error.message}`, variable);
  }
  const env = value as Record<string, any>;
  const nodeEnv = env.NODE_ENV as NodeEnv;
  const dataDir = path.resolve(String(env.DATA_DIR));
  const port = Number(env.PORT);

  const jwtSecret = requireSecret(env.JWT_SECRET, 'JWT_SECRET', nodeEnv, dataDir);
  const jwtRefreshSecret = requireSecret(env.JWT_REFRESH_SECRET, 'JWT_REFRESH_SECRET', nodeEnv, dataDir);
  if (jwtSecret === jwtRefreshSecret) {
    throw new ConfigError('JWT_REFRESH_SECRET must differ from JWT_SECRET', 'JWT_REFRESH_SECRET');
  }

  const stripe = env.STRIPE_SECRET_KEY
    ? {
        secretKey: String(env.STRIPE_SECRET_KEY),
        webhookSecret: env.STRIPE_WEBHOOK_SECRET as string | undefined,
        host: env.STRIPE_API_HOST as string | undefined,
        port: env.STRIPE_API_PORT as number | undefined,
        protocol: env.STRIPE_API_PROTOCOL as 'http' | 'https' | undefined,
        timeoutMs: Number(env.STRIPE_TIMEOUT_MS),
        retryDelayMs: Number(env.PROVIDER_RETRY_DELAY_MS),
      }
    : undefined;
  if (nodeEnv === 'production' && stripe && !stripe.webhookSecret) {
    throw new ConfigError('STRIPE_WEBHOOK_SECRET is required in production when STRIPE_SECRET_KEY is set', 'STRIPE_WEBHOOK_SECRET');
  }

  if (nodeEnv === 'production' && env.WEBHOOK_ALLOW_PRIVATE_URLS) {
    // Webhook URLs are chosen by sellers: with private addresses allowed they reach the internal network.
    throw new ConfigError('WEBHOOK_ALLOW_PRIVATE_URLS is for development and tests; production refuses it', 'WEBHOOK_ALLOW_PRIVATE_URLS');
  }

  const databaseUrl = databaseUrlFromParts(env);
  const warnings: string[] = [];
  if (nodeEnv === 'production') {
    // The embedded PostgreSQL lives in DATA_DIR of one machine, with a generated password and no
    // backups: a production without a configured database would lose its data with the machine.
    if (!databaseUrl) {
      throw new ConfigError('DATABASE_URL (or DB_HOST, DB_NAME, DB_USER) is required in production; the embedded PostgreSQL is for development and tests', 'DATABASE_URL');
    }
    if (Number(env.BCRYPT_ROUNDS) < MIN_PRODUCTION_BCRYPT_ROUNDS) {
      throw new ConfigError(`BCRYPT_ROUNDS must be at least ${MIN_PRODUCTION_BCRYPT_ROUNDS} in production`, 'BCRYPT_ROUNDS');
    }
    // Demo accounts have known emails and their passwords are logged: never in production.
    if (present.SEED_DEMO_DATA !== undefined && env.SEED_DEMO_DATA === true) {
      throw new ConfigError('SEED_DEMO_DATA cannot be true in production: the demo data is for development', 'SEED_DEMO_DATA');
    }
    if (env.METRICS_TOKEN) assertStrongSecret(String(env.METRICS_TOKEN), 'METRICS_TOKEN');
    // Allowed (a staging box may run on localhost) but mails would send customers to a dead link.
    if (isLocalUrl(String(env.FRONTEND_URL))) {
      warnings.push(`FRONTEND_URL is ${String(env.FRONTEND_URL)}: links in mails (verification, password reset) will point at localhost`);
    }
    if (!env.APP_URL || isLocalUrl(String(env.APP_URL))) {
      warnings.push(`APP_URL is ${String(env.APP_URL ?? 'not set')}: links to uploaded files stored in DATA_DIR will point at localhost`);
    }
  }

  const cloudinary = groupIfAny(['CLOUDINARY_CLOUD_NAME', 'CLOUDINARY_API_KEY', 'CLOUDINARY_API_SECRET'], env, () => ({
    cloudName: String(env.CLOUDINARY_CLOUD_NAME),
    apiKey: String(env.CLOUDINARY_API_KEY),
    apiSecret: String(env.CLOUDINARY_API_SECRET),
    uploadPrefix: env.CLOUDINARY_UPLOAD_PREFIX as string | undefined,
  }));

  const smtp = env.SMTP_HOST
    ? {
        host: String(env.SMTP_HOST),
        port: Number(env.SMTP_PORT),
        secure: env.SMTP_SECURE ?? Number(env.SMTP_PORT) === 465,
        user: env.SMTP_USER as string | undefined,
        pass: env.SMTP_PASS as string | undefined,
      }
    : undefined;

  const config: AppConfig = {
    env: nodeEnv,
    isProduction: nodeEnv === 'production',
    isTest: nodeEnv === 'test',
    port,
    host: String(env.HOST),
    logLevel: String(env.LOG_LEVEL),
    dataDir,
    appUrl: String(env.APP_URL ?? `http://localhost:${port}`).replace(/\/$/, ''),
    db: {
      url: databaseUrl,
      poolMax: Number(env.DB_POOL_MAX),
      embeddedPort: env.EMBEDDED_PG_PORT as number | undefined,
      replicaUrls: String(env.DATABASE_REPLICA_URLS ?? '')
        .split(',')
        .map((url) => url.trim())
        .filter(Boolean),
    },
    redisUrl: env.REDIS_URL as string | undefined,
    redisPrefix: String(env.REDIS_PREFIX),
    jwt: {
      secret: jwtSecret,
      refreshSecret: jwtRefreshSecret,
      expiresIn: String(env.JWT_EXPIRES_IN),
      refreshExpiresIn: String(env.JWT_REFRESH_EXPIRES_IN),
      issuer: 'marketplace-api',
      audience: 'marketplace-clients',
    },
    bcryptRounds: Number(env.BCRYPT_ROUNDS),
    stripe,
    mail: { from: String(env.MAIL_FROM), smtp },
    cloudinary,
    uploadMaxBytes: Number(env.UPLOAD_MAX_BYTES),
    uploadMaxPixels: Number(env.UPLOAD_MAX_PIXELS),
    uploadMaxPerHour: Number(env.UPLOAD_MAX_PER_HOUR),
    frontendUrl: String(env.FRONTEND_URL).replace(/\/$/, ''),
    allowedOrigins: allowedOriginsOf(String(env.ALLOWED_ORIGINS), String(env.FRONTEND_URL).replace(/\/$/, ''), nodeEnv === 'production'),
    companyName: String(env.COMPANY_NAME),
    supportEmail: String(env.SUPPORT_EMAIL),
    rateLimit: {
      windowMs: Number(env.RATE_LIMIT_WINDOW_MS),
      max: Number(env.RATE_LIMIT_MAX),
      authMax: Number(env.AUTH_RATE_LIMIT_MAX),
    },
    trustProxy: env.TRUST_PROXY as boolean | number | string,
    jsonBodyLimit: String(env.JSON_BODY_LIMIT),
    shutdownTimeoutMs: Number(env.SHUTDOWN_TIMEOUT_MS),
    commerce: {
      currency: String(env.CURRENCY),
      taxRate: Number(env.TAX_RATE),
      pricesIncludeTax: Boolean(env.PRICES_INCLUDE_TAX),
      shippingFlatRate: String(env.SHIPPING_FLAT_RATE),
      freeShippingThreshold: env.FREE_SHIPPING_THRESHOLD === undefined ? undefined : String(env.FREE_SHIPPING_THRESHOLD),
      commissionRate: Number(env.PLATFORM_COMMISSION_RATE),
      payoutHoldDays: Number(env.PAYOUT_HOLD_DAYS),
      returnWindowDays: Number(env.RETURN_WINDOW_DAYS),
      paymentTimeoutMinutes: Number(env.ORDER_PAYMENT_TIMEOUT_MINUTES),
    },
    listingTotalsTtlMs: Number(env.LISTING_TOTALS_TTL_MS),
    webhooks: { allowPrivateUrls: Boolean(env.WEBHOOK_ALLOW_PRIVATE_URLS) },
    publicCacheTtlMs: Number(env.PUBLIC_CACHE_TTL_MS),
    jobsInApi: env.JOBS_IN_API ?? true,
    seedDemoData: nodeEnv !== 'production' && Boolean(env.SEED_DEMO_DATA),
    metricsToken: env.METRICS_TOKEN as string | undefined,
    warnings,
  };
  return Object.freeze(config);
}

let loaded: AppConfig | undefined;

function readEnvironment(): AppConfig {
  dotenv.config({ quiet: true } as dotenv.DotenvConfigOptions);
  return loadConfig(process.env);
}

/** The process-wide configuration, read from the environment (and .env) on first use. */
export const config: AppConfig = new Proxy({} as AppConfig, {
  get(_target, property) {
    loaded ??= readEnvironment();
    return loaded[property as keyof AppConfig];
  },
});

/** Reads and validates the environment now, so a bad variable fails before anything starts. */
export function ensureConfig(): AppConfig {
  loaded ??= readEnvironment();
  return loaded;
}
