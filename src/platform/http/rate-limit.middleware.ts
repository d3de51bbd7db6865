import type { Request, RequestHandler, Response } from 'express';
import { MemoryStore, rateLimit, type ClientRateLimitInfo, type IncrementResponse, type Options, type Store } from 'express-rate-limit';
import { RedisStore, type RedisReply } from 'rate-limit-redis';
import { config } from '../config';
import { getRedis, redisCommand } from '../redis';
import { AppError } from '../utils/errors';
import { hashToken } from '../utils/tokens';

/**
 * Counts in Redis, one count shared by every API process (so a limit holds behind a load
 * balancer), while Redis is connected; in this process's memory while it is not, so that a lost
 * Redis neither holds requests up nor lifts the limits. The two counts are apart: while Redis is
 * away a client may get the limit once more per process, and back to Redis it finds its count there.
 */
class RedisOrMemoryStore implements Store {
  readonly localKeys = false;
  readonly prefix: string;
  private readonly memory = new MemoryStore();
  private shared?: RedisStore;
  private options?: Options;

  constructor(prefix: string) {
    this.prefix = prefix;
  }

  init(options: Options): void {
    this.options = options;
    this.memory.init(options);
  }

  /** Made on first use (it loads its scripts into Redis at once), with commands that never wait for a lost Redis. */
  private redisStore(): RedisStore {
    if (!this.shared) {
      const store = new RedisStore({
        prefix: this.prefix,
        sendCommand: (command: string, ...args: string[]) => redisCommand((redis) => redis.call(command, ...args) as Promise<RedisReply>),
      });
      // Awaited by the first increment, which loads them again when they failed; a failure is not unhandled meanwhile.
      store.incrementScriptSha.catch(() => undefined);
      store.getScriptSha.catch(() => undefined);
      if (this.options) store.init(this.options);
      this.shared = store;
    }
    return this.shared;
  }

  async increment(key: string): Promise<IncrementResponse> {
    try {
      return await this.redisStore().increment(key);
    } catch {
      return this.memory.increment(key);
    }
  }

  async get(key: string): Promise<ClientRateLimitInfo | undefined> {
    try {
      return await this.redisStore().get(key);
    } catch {
      return this.memory.get(key);
    }
  }

  async decrement(key: string): Promise<void> {
    await this.redisStore()
      .decrement(key)
      .catch(() => this.memory.decrement(key));
  }

  async resetKey(key: string): Promise<void> {
    await Promise.all([this.memory.resetKey(key), this.redisStore().resetKey(key).catch(() => undefined)]);
  }

  shutdown(): void {
    this.memory.shutdown();
  }
}

function storeFor(prefix: string): Options['store'] | undefined {
  // Connects now, so that the first requests find Redis ready.
  if (!getRedis()) return undefined;
  return new RedisOrMemoryStore(`${config.redisPrefix}:rl:${prefix}:`);
}

interface LimiterOptions {
  skip?: Options['skip'];
  /** Counted per client address unless given. */
  keyGenerator?: Options['keyGenerator'];
  windowMs?: number;
}

function limiter(prefix: string, max: number, message: string, options: LimiterOptions = {}): RequestHandler {
  return rateLimit({
    skip: options.skip,
    keyGenerator: options.keyGenerator,
    windowMs: options.windowMs ?? config.rateLimit.windowMs,
    limit: max,
    standardHeaders: 'draft-6',
    legacyHeaders: false,
    store: storeFor(prefix),
    passOnStoreError: true,
    handler: (_req, _res, next) => {
      next(new AppError(429, 'RATE_LIMIT_EXCEEDED', message));
    },
  });
}

/** Mails that carry a link, limited per recipient address: each kind counts on its own. */
export type LimitedMail = 'password-reset' | 'email-verification';

/**
 * At most this many mails of one kind to one address per hour, whoever asks and from wherever:
 * enough for a mail that went astray, too few to flood someone's inbox through our server.
 */
export const MAILS_PER_ADDRESS_PER_HOUR = 5;

const passThrough: RequestHandler = (_req, _res, next) => next();
let authLimiter: RequestHandler = passThrough;
let accountLimiter: RequestHandler = passThrough;
let promoLimiter: RequestHandler = passThrough;
const mailLimiters: Record<LimitedMail, RequestHandler> = { 'password-reset': passThrough, 'email-verification': passThrough };

/** Where a keyed limiter finds its key: set just before it runs, by the wrapper of its route. */
const KEY_LOCAL = 'rateLimitKey';

function keyFromLocals(_req: Request, res: Response): string {
  return String(res.locals[KEY_LOCAL]);
}

/** Runs the limiter `limiterOf` gives (built per app) over the key of the request; no key, no count. */
function keyed(limiterOf: () => RequestHandler, keyOf: (req: Request) => string | undefined): RequestHandler {
  return (req, res, next) => {
    const key = keyOf(req);
    if (key === undefined) {
      next();
      return;
    }
    res.locals[KEY_LOCAL] = key;
    limiterOf()(req, res, next);
  };
}

/**
 * Builds the limiters for one app: the general limit for all of /api (returned), and the strict
 * ones behind `authRateLimit`, `accountRateLimit` and `mailRateLimit`. Called once per app,
 * never inside a request.
 */
export function configureRateLimits(): RequestHandler {
  authLimiter = limiter('auth', config.rateLimit.authMax, 'Too many attempts, please try again later');
  accountLimiter = limiter('account', config.rateLimit.authMax, 'Too many attempts on this account, please try again later', { keyGenerator: keyFromLocals });
  promoLimiter = limiter('promo', config.rateLimit.authMax, 'Too many codes tried, please try again later');
  for (const kind of Object.keys(mailLimiters) as LimitedMail[]) {
    mailLimiters[kind] = limiter(`mail-${kind}`, MAILS_PER_ADDRESS_PER_HOUR, 'Too many mails were asked for this address, please try again later', {
      keyGenerator: keyFromLocals,
      windowMs: 60 * 60 * 1000,
    });
  }
  // Stripe retries a refused webhook for days and cannot slow down: its route is signed, not limited.
  return limiter('api', config.rateLimit.max, 'Too many requests, please slow down', { skip: (req) => req.path.startsWith('/webhooks/') });
}

/**
 * The strict per-IP limit, one count shared by login, register, forgot-password, reset-password,
 * change-password, verify-email and resend-verification: every route that hashes a password,
 * guesses a token or sends a mail.
 */
export const authRateLimit: RequestHandler = (req, res, next) => authLimiter(req, res, next);

/**
 * The strict per-IP limit on trying promotion codes, counted apart from sign-ins: a 404 or a 409
 * tells whether a code exists, so guessing codes is held to AUTH_RATE_LIMIT_MAX tries a window.
 */
export const promoRateLimit: RequestHandler = (req, res, next) => promoLimiter(req, res, next);

/**
 * The strict limit per signed-in account (after `authenticate`), on top of the per-IP one: an
 * attacker with many addresses still gets `AUTH_RATE_LIMIT_MAX` tries at one account.
 */
export const accountRateLimit: RequestHandler = keyed(() => accountLimiter, (req) => req.auth?.user.id);

/**
 * Limits the mails of `kind` sent to the address `addressOf` names (after `validate`), counted
 * under its hash so that Redis holds no address. It counts every request, whether or not an
 * account has that address, so a 429 tells nothing about which addresses have one.
 */
export function mailRateLimit(kind: LimitedMail, addressOf: (req: Request) => string | undefined): RequestHandler {
  return keyed(
    () => mailLimiters[kind],
    (req) => {
      const address = addressOf(req)?.trim().toLowerCase();
      return address ? hashToken(address) : undefined;
    },
  );
}
