import type { Request, RequestHandler } from 'express';
import type { UserRole } from '../../models/enums';
import { cachedSession } from './session-cache';
import { sessionService, type SessionUser } from './session.service';
import { verifyAccessToken } from './token.service';
import { ForbiddenError, UnauthorizedError } from '../../platform/utils/errors';
import { describeMiddleware } from '../../platform/http/openapi';
import type { Caller } from './caller';

export type AuthUser = SessionUser;

export interface AuthContext {
  user: AuthUser;
  sessionId: string;
}

function bearerToken(req: Request): string | undefined {
  const header = req.get('authorization');
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  return match?.[1];
}

const STATUS_ERRORS: Record<string, () => Error> = {
  suspended: () => new ForbiddenError('ACCOUNT_SUSPENDED', 'This account has been suspended'),
  pending: () => new ForbiddenError('ACCOUNT_PENDING', 'This seller account is waiting for approval'),
  rejected: () => new ForbiddenError('ACCOUNT_REJECTED', 'This seller account was not approved'),
};

/**
 * Who is calling: a valid access token whose session is not revoked and whose user is approved.
 * One indexed read, kept for a second (session-cache.ts), no write (the last login time is set at login, not here).
 */
async function resolve(token: string): Promise<AuthContext> {
  const claims = verifyAccessToken(token);
  const found = await cachedSession(claims.sid, (sessionId) => sessionService.findActive(sessionId));
  if (!found || found.user.id !== claims.sub) throw new UnauthorizedError('INVALID_TOKEN', 'The access token is invalid');
  if (found.revoked) throw new UnauthorizedError('TOKEN_REVOKED', 'This session has been revoked');
  const statusError = STATUS_ERRORS[found.user.status];
  if (statusError) throw statusError();
  return { user: found.user, sessionId: claims.sid };
}

export const authenticate: RequestHandler = describeMiddleware(
  async (req, _res, next) => {
    const token = bearerToken(req);
    if (!token) throw new UnauthorizedError('NO_TOKEN', 'An access token is required');
    req.auth = await resolve(token);
    next();
  },
  { security: ['bearer'] },
);

/** Like authenticate, but a request without a token goes on anonymously; a bad token is still refused. */
export const optionalAuth: RequestHandler = describeMiddleware(
  async (req, _res, next) => {
    const token = bearerToken(req);
    if (token) req.auth = await resolve(token);
    next();
  },
  { security: ['bearer'], optionalSecurity: true },
);

/** Only these roles pass; anyone else signed in gets 403 INSUFFICIENT_PERMISSIONS. */
export function authorize(...roles: UserRole[]): RequestHandler {
  return describeMiddleware(
    (req, _res, next) => {
      if (!req.auth) throw new UnauthorizedError('NO_TOKEN', 'An access token is required');
      if (!roles.includes(req.auth.user.role)) throw new ForbiddenError();
      next();
    },
    { roles },
  );
}

/** The signed-in caller; for handlers behind `authenticate`. */
export function currentAuth(req: Request): AuthContext {
  if (!req.auth) throw new UnauthorizedError('NO_TOKEN', 'An access token is required');
  return req.auth;
}

/**
 * Cart routes: a signed-in user (Bearer, which wins when both are sent), or a guest holding a
 * cart token (X-Cart-Token); neither is 401 NO_TOKEN.
 */
export const cartAccess: RequestHandler = describeMiddleware(
  async (req, _res, next) => {
    const token = bearerToken(req);
    if (token) req.auth = await resolve(token);
    else if (!req.get('x-cart-token')) throw new UnauthorizedError('NO_TOKEN', 'An access token or a cart token (X-Cart-Token) is required');
    next();
  },
  { security: ['bearer', 'cartToken'] },
);

/** The signed-in caller of a request, as services take it. */
export function callerOf(req: Request): Caller {
  const { user } = currentAuth(req);
  return { id: user.id, role: user.role };
}
