export interface TtlCacheOptions<T> {
  /** Most entries held at once; the oldest makes room. */
  maxEntries: number;
  /** Most bytes held at once (as `sizeOf` counts them); the oldest entries make room. */
  maxBytes?: number;
  /** An estimate of what an entry holds in memory; 0 when only entries are counted. */
  sizeOf?: (key: string, value: T) => number;
}

/**
 * Sweeps run at most this often: while entries keep arriving, set() drops the expired ones at the
 * front anyway, and the timer is for the quiet after a burst.
 */
const MIN_SWEEP_GAP_MS = 1000;

interface Entry<T> {
  value: T;
  expiresAt: number;
  bytes: number;
}

/**
 * A bounded map whose entries expire. Bounded by entries and, when told how to size them, by
 * bytes: the oldest entry makes room. Expired entries are dropped by a timer, not only when
 * read, so a burst of keys that are never asked for again (950 spellings of one page) is freed
 * once its TTL has passed even if no request comes after it. For small, process-local caches
 * that a write clears whole.
 */
export class TtlCache<T> {
  // A Map iterates in insertion order, and set() always appends: the first entry is the oldest.
  private readonly entries = new Map<string, Entry<T>>();
  private readonly maxEntries: number;
  private readonly maxBytes: number;
  private readonly sizeOf: (key: string, value: T) => number;
  private heldBytes = 0;
  private sweepTimer: NodeJS.Timeout | undefined;
  private sweepAt = Infinity;

  constructor(limits: number | TtlCacheOptions<T>) {
    const options = typeof limits === 'number' ? { maxEntries: limits } : limits;
    this.maxEntries = options.maxEntries;
    this.maxBytes = options.maxBytes ?? Infinity;
    this.sizeOf = options.sizeOf ?? (() => 0);
  }

  /** Entries held now, expired ones not yet swept included. */
  get size(): number {
    return this.entries.size;
  }

  /** Bytes held now, as `sizeOf` counts them. */
  get bytes(): number {
    return this.heldBytes;
  }

  get(key: string): T | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= Date.now()) {
      this.remove(key, entry);
      return undefined;
    }
    return entry.value;
  }

  /** Keeps the value for ttlMs; a ttl of 0 or less, or a value larger than the whole cache, keeps nothing. */
  set(key: string, value: T, ttlMs: number): void {
    if (ttlMs <= 0) return;
    const bytes = this.sizeOf(key, value);
    if (bytes > this.maxBytes) return;
    const existing = this.entries.get(key);
    if (existing) this.remove(key, existing);
    this.dropExpiredFromFront(Date.now());
    while (this.entries.size > 0 && (this.entries.size >= this.maxEntries || this.heldBytes + bytes > this.maxBytes)) {
      const [oldestKey, oldest] = this.entries.entries().next().value as [string, Entry<T>];
      this.remove(oldestKey, oldest);
    }
    const expiresAt = Date.now() + ttlMs;
    this.entries.set(key, { value, expiresAt, bytes });
    this.heldBytes += bytes;
    this.scheduleSweep(expiresAt);
  }

  delete(key: string): void {
    const entry = this.entries.get(key);
    if (entry) this.remove(key, entry);
  }

  clear(): void {
    this.entries.clear();
    this.heldBytes = 0;
    this.cancelSweep();
  }

  /** Drops every expired entry; returns how many. */
  sweep(now = Date.now()): number {
    let dropped = 0;
    let nextExpiry = Infinity;
    for (const [key, entry] of this.entries) {
      if (entry.expiresAt <= now) {
        this.remove(key, entry);
        dropped += 1;
      } else {
        nextExpiry = Math.min(nextExpiry, entry.expiresAt);
      }
    }
    this.cancelSweep();
    if (nextExpiry !== Infinity) this.scheduleSweep(nextExpiry);
    return dropped;
  }

  private remove(key: string, entry: Entry<T>): void {
    this.entries.delete(key);
    this.heldBytes -= entry.bytes;
  }

  /** Entries of one TTL expire in insertion order: the expired ones are at the front. */
  private dropExpiredFromFront(now: number): void {
    for (const [key, entry] of this.entries) {
      if (entry.expiresAt > now) return;
      this.remove(key, entry);
    }
  }

  /** One timer per cache, due at the earliest expiry it knows of; it never keeps the process alive. */
  private scheduleSweep(at: number): void {
    if (this.sweepTimer && this.sweepAt <= at) return;
    this.cancelSweep();
    this.sweepAt = at;
    this.sweepTimer = setTimeout(() => {
      this.sweepTimer = undefined;
      this.sweepAt = Infinity;
      this.sweep();
    }, Math.max(MIN_SWEEP_GAP_MS, at - Date.now() + 1));
    this.sweepTimer.unref();
  }

  private cancelSweep(): void {
    if (this.sweepTimer) clearTimeout(this.sweepTimer);
    this.sweepTimer = undefined;
    this.sweepAt = Infinity;
  }
}
