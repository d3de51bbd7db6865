import crypto from 'node:crypto';

/** A random, URL-safe secret for links and refresh tokens. */
export function randomToken(bytes = 32): string {
  return crypto.randomBytes(bytes).toString('base64url');
}

/** Tokens are stored only as this hash; a database leak yields nothing usable. */
export function hashToken(token: string): string {
  return crypto.createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Constant-time comparison of two hex hashes of equal length. */
export function sameHash(a: string, b: string): boolean {
  const left = Buffer.from(a, 'hex');
  const right = Buffer.from(b, 'hex');
  return left.length === right.length && left.length > 0 && crypto.timingSafeEqual(left, right);
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** '15m', '7d', '3600' (seconds, as jsonwebtoken reads a bare number) to milliseconds. */
export function durationMs(value: string): number {
  const match = /^(\d+)(ms|s|m|h|d)?$/.exec(value.trim());
  if (!match) throw new Error(`Not a duration: ${value}`);
  return Number(match[1]) * UNIT_MS[match[2] ?? 's'];
}

const SEAL_VERSION = 'v1';

function sealKey(secret: string, purpose: string): Buffer {
  return Buffer.from(crypto.hkdfSync('sha256', secret, '', `marketplace:${purpose}`, 32));
}

/**
 * Encrypts and authenticates `plain` (AES-256-GCM) under a key derived from `secret` for one
 * `purpose`, so that a value that must travel through storage (a mailed link on its way through
 * the outbox and the job queue) is of no use to whoever reads that storage without the secret.
 */
export function seal(plain: string, secret: string, purpose: string): string {
  const iv = crypto.randomBytes(12);
  const cipher = crypto.createCipheriv('aes-256-gcm', sealKey(secret, purpose), iv);
  const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  return `${SEAL_VERSION}.${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url')}`;
}

/** The plain text of a value made by `seal` with the same secret and purpose; throws otherwise. */
export function unseal(sealed: string, secret: string, purpose: string): string {
  const [version, payload] = sealed.split('.');
  if (version !== SEAL_VERSION || !payload) throw new Error('Not a sealed value');
  const bytes = Buffer.from(payload, 'base64url');
  if (bytes.length < 28) throw new Error('Not a sealed value');
  const decipher = crypto.createDecipheriv('aes-256-gcm', sealKey(secret, purpose), bytes.subarray(0, 12));
  decipher.setAuthTag(bytes.subarray(12, 28));
  return Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]).toString('utf8');
}
