import crypto from 'node:crypto';
import bcrypt from 'bcryptjs';

/**
 * bcrypt reads at most 72 bytes, so a longer password would be silently truncated. Every password
 * is first reduced to the base64 SHA-256 of its UTF-8 bytes (44 ASCII bytes): all of it counts, and
 * no NUL byte can cut it short.
 */
function prehash(password: string): string {
  return crypto.createHash('sha256').update(password, 'utf8').digest('base64');
}

export async function hashPassword(password: string, rounds: number): Promise<string> {
  return bcrypt.hash(prehash(password), rounds);
}

export function hashPasswordSync(password: string, rounds: number): string {
  return bcrypt.hashSync(prehash(password), rounds);
}

export async function verifyPassword(password: string, hash: string): Promise<boolean> {
  return bcrypt.compare(prehash(password), hash);
}

const dummyHashes = new Map<number, string>();

/**
 * Spends the same bcrypt time as a real comparison, for logins with an unknown email:
 * the answer time then says nothing about whether the account exists.
 */
export async function burnPasswordCheck(password: string, rounds: number): Promise<false> {
  let dummy = dummyHashes.get(rounds);
  if (!dummy) {
    dummy = await bcrypt.hash(crypto.randomBytes(16).toString('hex'), rounds);
    dummyHashes.set(rounds, dummy);
  }
  await bcrypt.compare(prehash(password), dummy);
  return false;
}

/** Rejects the passwords every list of leaked passwords starts with, and those too short. */
export function passwordWeakness(password: string): string | undefined {
  if (password.length < 8) return 'must be at least 8 characters';
  if (password.length > 128) return 'must be at most 128 characters';
  if (/^(.)\1+$/.test(password)) return 'must not repeat one character';
  const lowered = password.toLowerCase();
  const common = ['password', '12345678', '123456789', 'qwertyui', 'letmein1', 'iloveyou', 'admin123', 'welcome1', 'abcdefgh'];
  if (common.some((word) => lowered.startsWith(word) && lowered.length <= word.length + 2)) return 'is too common';
  return undefined;
}
