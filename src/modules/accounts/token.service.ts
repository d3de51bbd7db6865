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
 * Tokens whose signature and claims were verified, by their exact text, with their expiry: a
 * signed-in client sends the same token with every request until it refreshes it, and the HMAC,
 * the decoding and the claim checks cost each signed-in request about a tenth of a millisecond. Only a token that passed
 * every check gets here; its expiry is checked again at each use. The entries are dropped when the
 * secret, the issuer or the audience changes, and the map is emptied when full (a bound on memory, not an LRU: a miss only
 * verifies again). Revocation is not this cache's concern: the session check after it decides.
 */
const verified = new Map<string, { claims: AccessClaims; expiresAt: number }>();
const MAX_VERIFIED = 10_000;
/** The settings the kept tokens were verified against. */
let verifiedWith: { secret: string; issuer: string; audience: string } | undefined;

/**
 * Verifies signature (pinned algorithm: `alg: none` and algorithm swaps fail), issuer, audience,
 * expiry and kind. Throws 401 TOKEN_EXPIRED or INVALID_TOKEN.
 */
export function verifyAccessToken(token: string): AccessClaims {
  const { secret, issuer, audience } = config.jwt;
  if (verifiedWith?.secret !== secret || verifiedWith.issuer !== issuer || verifiedWith.audience !== audience) {
    verified.clear();
    verifiedWith = { secret, issuer, audience };
  }
  const known = verified.get(token);
  if (known) {
    // jsonwebtoken's rule: expired from the second the clock reaches `exp`.
    if (Math.floor(Date.now() / 1000) >= known.expiresAt) {
      verified.delete(token);
      throw new UnauthorizedError('TOKEN_EXPIRED', 'The access token has expired');
    }
    return known.claims;
  }
  const checked = verifySignedClaims(token);
  if (verified.size >= MAX_VERIFIED) verified.clear();
  verified.set(token, checked);
  return checked.claims;
}

function verifySignedClaims(token: string): { claims: AccessClaims; expiresAt: number } {
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
    typeof payload.exp !== 'number' ||
    !/^[0-9a-f-]{36}$/i.test(payload.sid) ||
    !/^[0-9a-f-]{36}$/i.test(payload.sub)
  ) {
    throw new UnauthorizedError('INVALID_TOKEN', 'The access token is invalid');
  }
  const claims: AccessClaims = Object.freeze({ sub: payload.sub, sid: payload.sid, role: String(payload.role), typ: 'access' });
  return { claims, expiresAt: payload.exp };
}
