import crypto from 'node:crypto';
import bcrypt from 'bcrypt';

/**
 * bcrypt reads at most 72 bytes, so a longer password would be silently truncated. Every password
 * is first reduced to the base64 SHA-256 of its UTF-8 bytes (44 ASCII bytes): all of it counts, and
 * no NUL byte can cut it short.
 */
function prehash(password: string): string {
  return crypto.createHash('sha256').update(password, 'utf8').digest('base64');
}

// The native binding hashes and compares on libuv's thread pool: a burst of logins costs CPU
// there, but never holds the event loop (and with it every other request) for the ~250 ms of a
// cost-12 hash, as the pure-JavaScript implementation did.

export async function hashPassword(password: string, rounds: number): Promise<string> {
  return bcrypt.hash(prehash(password), rounds);
}

/** Blocks the thread: for scripts and test fixtures only, never on a request path. */
export function hashPasswordSync(password: string, rounds: number): string {
  return bcrypt.hashSync(prehash(password), rounds);
}

export async function verifyPassword(password: string, hash: string): Promise<boolean> {
  return bcrypt.compare(prehash(password), hash);
}

/** The cost a stored hash was made with (the `12` of `$2b$12$…`); undefined for anything else. */
export function hashCost(hash: string): number | undefined {
  const match = /^\$2[aby]\$(\d\d)\$/.exec(hash);
  return match ? Number(match[1]) : undefined;
}

/** True when a stored hash was made with a lower cost than `rounds`, and should be made again. */
export function needsRehash(hash: string, rounds: number): boolean {
  const cost = hashCost(hash);
  return cost === undefined || cost < rounds;
}

const dummyHashes = new Map<number, Promise<string>>();

/**
 * Spends the bcrypt time of a real comparison at cost `rounds`, for logins with an unknown email:
 * given the cost real accounts' hashes have, the answer time then says nothing about whether
 * the account exists.
 */
export async function burnPasswordCheck(password: string, rounds: number): Promise<false> {
  let dummy = dummyHashes.get(rounds);
  if (!dummy) {
    dummy = bcrypt.hash(crypto.randomBytes(16).toString('hex'), rounds);
    dummyHashes.set(rounds, dummy);
  }
  await bcrypt.compare(prehash(password), await dummy);
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
