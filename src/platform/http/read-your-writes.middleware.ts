import { createHash } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import { config } from '../config';
import { PIN_WINDOW_MS, runWithReadRouting } from '../db/replicas';
import { redisCommand } from '../redis';

/**
 * Read-your-writes with read replicas (platform/db/replicas.ts): a client whose write request
 * reached a handler is pinned to the primary for PIN_WINDOW_MS from its answer, so that its next
 * reads, through any API process, see what it wrote even when the replicas have not replayed it.
 *
 * - The client: the signed-in user (the `sub` of the Bearer token), else the guest's cart token
 *   (hashed), else none; an anonymous client is never pinned. The token is decoded, not verified,
 *   here: a forged one can only send its own reads to the primary, and the route still checks it.
 * - The pin is written before the answer is: the last bytes of a write's answer wait for it, so
 *   the client cannot ask again before the pin is there. With REDIS_URL it is a key with a TTL
 *   that every process reads; it is also kept in this process, in a bounded map, which is all
 *   there is without REDIS_URL.
 * - Redis configured but not answering: the pin is kept in this process only, without waiting
 *   (redisCommand fails at once), and a client that might be pinned elsewhere reads the primary.
 * - Without DATABASE_REPLICA_URLS this middleware does nothing.
 */

const MAX_LOCAL_PINS = 10_000;
/** Client → when its pin ends (performance.now()), oldest first. */
const localPins = new Map<string, number>();

function pinKey(client: string): string {
  return `${config.redisPrefix}:rw:${client}`;
}

function pinLocally(client: string): void {
  localPins.delete(client);
  localPins.set(client, performance.now() + PIN_WINDOW_MS);
  if (localPins.size > MAX_LOCAL_PINS) localPins.delete(localPins.keys().next().value!);
}

function pinnedLocally(client: string): boolean {
  const until = localPins.get(client);
  if (until === undefined) return false;
  if (until > performance.now()) return true;
  localPins.delete(client);
  return false;
}

async function pin(client: string): Promise<void> {
  pinLocally(client);
  if (!config.redisUrl) return;
  await redisCommand((redis) => redis.set(pinKey(client), '1', 'PX', PIN_WINDOW_MS)).catch(() => undefined);
}

async function isPinned(client: string): Promise<boolean> {
  if (pinnedLocally(client)) return true;
  if (!config.redisUrl) return false;
  try {
    return (await redisCommand((redis) => redis.exists(pinKey(client)))) === 1;
  } catch {
    // Another process may hold the client's pin where this one cannot see it: read the primary.
    return true;
  }
}

/** The `sub` claim of a JWT, unverified (see above), or undefined. */
function subjectOf(token: string): string | undefined {
  try {
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { sub?: unknown };
    return typeof claims.sub === 'string' && claims.sub.length > 0 && claims.sub.length <= 100 ? claims.sub : undefined;
  } catch {
    return undefined;
  }
}

/** Who the client is, for its pin: `u:<user id>`, `c:<hash of the cart token>`, or undefined. */
function clientOf(req: Request): string | undefined {
  const bearer = /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '')?.[1];
  const subject = bearer ? subjectOf(bearer) : undefined;
  if (subject) return `u:${subject}`;
  const cartToken = req.get('x-cart-token');
  if (cartToken) return `c:${createHash('sha256').update(cartToken).digest('base64url').slice(0, 32)}`;
  return undefined;
}

/** Holds the end of the answer of a write that reached a handler until the client's pin is written. */
function pinBeforeAnswer(req: Request, res: Response, client: string): void {
  const end = res.end.bind(res) as (...args: unknown[]) => Response;
  res.end = ((...args: unknown[]) => {
    res.end = end as Response['end'];
    // req.route is set once a route matched: a 404, a 405 or a refusal before any route pins nothing.
    if (req.route === undefined) return end(...args);
    void pin(client).finally(() => {
      if (!res.writableEnded) end(...args);
    });
    return res;
  }) as Response['end'];
}

export function readYourWrites(): RequestHandler {
  if (config.db.replicaUrls.length === 0) return (_req, _res, next) => next();
  return (req, res, next) => {
    const client = clientOf(req);
    const write = req.method !== 'GET' && req.method !== 'HEAD';
    if (write && client) pinBeforeAnswer(req, res, client);
    let pinned: Promise<boolean> | undefined;
    runWithReadRouting({ primaryOnly: write, pinned: () => (pinned ??= client ? isPinned(client) : Promise.resolve(false)) }, next);
  };
}
