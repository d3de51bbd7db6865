import crypto from 'node:crypto';
import jwt, { type JwtPayload } from 'jsonwebtoken';
import { config } from '../../platform/config';
import { UnauthorizedError } from '../../platform/utils/errors';

/** The claims of an access token: the user, the session it belongs to, and the token's kind. */
export interface AccessClaims {
  sub: string;
  sid: string;
  role: string;
  typ: 'access';
}

const ALGORITHM = 'HS256';

let signingKey: { secret: string; key: crypto.KeyObject } | undefined;

/**
 * The access token secret as a secret KeyObject, made once. Given the string, jsonwebtoken first
 * tries it as a public key (and fails) on every call, which made the token check a quarter of a
 * request's CPU; given a secret key it goes straight to the HMAC.
 */
function accessKey(): crypto.KeyObject {
  if (signingKey?.secret !== config.jwt.secret) signingKey = { secret: config.jwt.secret, key: crypto.createSecretKey(Buffer.from(config.jwt.secret, 'utf8')) };
  return signingKey.key;
}

export function signAccessToken(userId: string, sessionId: string, role: string): string {
  const claims: AccessClaims = { sub: userId, sid: sessionId, role, typ: 'access' };
  return jwt.sign(claims, accessKey(), {
    algorithm: ALGORITHM,
    expiresIn: config.jwt.expiresIn as jwt.SignOptions['expiresIn'],
    issuer: config.jwt.issuer,
    audience: config.jwt.audience,
  });
}

/**
 * Verifies signature (pinned algorithm: `alg: none` and algorithm swaps fail), issuer, audience,
 * expiry and kind. Throws 401 TOKEN_EXPIRED or INVALID_TOKEN.
 */
export function verifyAccessToken(token: string): AccessClaims {
  let payload: string | JwtPayload;
  try {
    payload = jwt.verify(token, accessKey(), {
      algorithms: [ALGORITHM],
      issuer: config.jwt.issuer,
      audience: config.jwt.audience,
    });
  } catch (error) {
    if (error instanceof jwt.TokenExpiredError) throw new UnauthorizedError('TOKEN_EXPIRED', 'The access token has expired');
    throw new UnauthorizedError('INVALID_TOKEN', 'The access token is invalid');
  }
  if (
    typeof payload !== 'object' ||
    payload.typ !== 'access' ||
    typeof payload.sub !== 'string' ||
    typeof payload.sid !== 'string' ||
    !/^[0-9a-f-]{36}$/i.test(payload.sid) ||
    !/^[0-9a-f-]{36}$/i.test(payload.sub)
  ) {
    throw new UnauthorizedError('INVALID_TOKEN', 'The access token is invalid');
  }
  return payload as unknown as AccessClaims;
}
