import type { Request, RequestHandler, Response } from 'express';
import { rateLimit, type Options } from 'express-rate-limit';
import { RedisStore, type RedisReply } from 'rate-limit-redis';
import { config } from '../config';
import { getRedis } from '../integrations/redis';
import { AppError } from '../utils/errors';
import { hashToken } from '../utils/tokens';

function storeFor(prefix: string): Options['store'] | undefined {
  const redis = getRedis();
  if (!redis) return undefined;
  // Several API processes share one count per client, so the limit holds behind a load balancer.
  return new RedisStore({
    prefix: `${config.redisPrefix}:rl:${prefix}:`,
    sendCommand: (command: string, ...args: string[]) => redis.call(command, ...args) as Promise<RedisReply>,
  });
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
