import type { RequestHandler } from 'express';
import { rateLimit, type Options } from 'express-rate-limit';
import { RedisStore, type RedisReply } from 'rate-limit-redis';
import { config } from '../config';
import { getRedis } from '../integrations/redis';
import { AppError } from '../utils/errors';

function storeFor(prefix: string): Options['store'] | undefined {
  const redis = getRedis();
  if (!redis) return undefined;
  // Several API processes share one count per client, so the limit holds behind a load balancer.
  return new RedisStore({
    prefix: `${config.redisPrefix}:rl:${prefix}:`,
    sendCommand: (command: string, ...args: string[]) => redis.call(command, ...args) as Promise<RedisReply>,
  });
}

function limiter(prefix: string, max: number, message: string, skip?: Options['skip']): RequestHandler {
  return rateLimit({
    skip,
    windowMs: config.rateLimit.windowMs,
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

const passThrough: RequestHandler = (_req, _res, next) => next();
let authLimiter: RequestHandler = passThrough;

/**
 * Builds the limiters for one app: the general limit for all of /api (returned) and the strict one
 * behind `authRateLimit`. Called once per app, never inside a request.
 */
export function configureRateLimits(): RequestHandler {
  authLimiter = limiter('auth', config.rateLimit.authMax, 'Too many attempts, please try again later');
  // Stripe retries a refused webhook for days and cannot slow down: its route is signed, not limited.
  return limiter('api', config.rateLimit.max, 'Too many requests, please slow down', (req) => req.path.startsWith('/webhooks/'));
}

/** The strict limit shared by login, register, forgot-password and reset-password. */
export const authRateLimit: RequestHandler = (req, res, next) => authLimiter(req, res, next);
