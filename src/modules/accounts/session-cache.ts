import { listen, type ListenerState } from '../../platform/db/notifications';

/**
 * The check of a session (is it revoked, who is its user, is the user still approved) is one
 * statement per signed-in request; this keeps its answer for a second, per session. A revocation
 * or a change of the user's role, status, name or email is announced by the database itself
 * (triggers of migration 0016 notify `auth_changed` with the user's id when the change commits),
 * and every process drops that user's entries as the notification arrives. While this process is
 * not listening (the connection is being made, or was lost) nothing is served from here: a
 * notification missed meanwhile could leave a revoked session in the cache.
 */

/** A session's check as the session service answers it: its user, and whether it was revoked. */
export interface ActiveSession {
  user: { id: string };
  revoked: boolean;
}

const TTL_MS = 1_000;
/** Sessions checked within a second: bounds the memory at a few hundred bytes each. */
const MAX_ENTRIES = 20_000;

interface Entry {
  at: number;
  value: ActiveSession;
}

const entries = new Map<string, Entry>();
let live = false;
/** Moves at every notification: an answer read while one arrived may predate its change, and is not kept. */
let changes = 0;

function forgetUser(userId: string): void {
  changes += 1;
  for (const [sessionId, entry] of entries) if (entry.value.user.id === userId) entries.delete(sessionId);
}

function onState(state: ListenerState): void {
  // Whatever was cached before the connection (re)opened may have missed a notification.
  entries.clear();
  changes += 1;
  live = state === 'live';
}

function onNotify(userId: string): void {
  forgetUser(userId);
}

/** The session's check, from the cache when it is fresh and this process is listening, else from `load`. */
export async function cachedSession<T extends ActiveSession>(sessionId: string, load: (sessionId: string) => Promise<T | undefined>): Promise<T | undefined> {
  listen('auth_changed', onNotify, onState);
  const now = Date.now();
  if (live) {
    const hit = entries.get(sessionId);
    if (hit && now - hit.at < TTL_MS) return hit.value as T;
  }
  const listening = live;
  const before = changes;
  const value = await load(sessionId);
  // Only an answer read while listening, with no notification arriving meanwhile: none for it can
  // have been missed. A revoked session is not kept (it stays revoked; caching the refusal saves little).
  if (value && !value.revoked && listening && live && changes === before) {
    if (entries.size >= MAX_ENTRIES) entries.delete(entries.keys().next().value as string);
    entries.delete(sessionId);
    entries.set(sessionId, { at: now, value });
  }
  return value;
}

/** Whether this process serves checks from the cache now: it is listening, and has been since its entries were kept. */
export function sessionCacheLive(): boolean {
  return live;
}

/** Drops this process's entries of a user at once (the notification does it for every process, the same a few milliseconds later). */
export function forgetSessionsOf(userId: string): void {
  forgetUser(userId);
}
