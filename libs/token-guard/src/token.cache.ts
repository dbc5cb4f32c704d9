import { LRUCache } from 'lru-cache';

/**
 * A bounded LRU of verification results keyed by the SHA-256 of the token, each
 * entry with its own lifetime. `deleteWhere` is the hook for a revocation feed
 * (drop by jti, or a client's tokens issued before some time); a result that was
 * being computed while it ran is not cached, so it cannot outlive the revocation.
 */
export class TokenCache<V extends object> {
  private readonly entries: LRUCache<string, V>;
  private generation = 0;

  constructor(maxEntries: number, now: () => number = Date.now) {
    // ttlResolution 0: read the clock on every check (and set no timer).
    this.entries = new LRUCache<string, V>({ max: maxEntries, perf: { now }, ttlResolution: 0 });
  }

  get(tokenHash: string): V | undefined {
    return this.entries.get(tokenHash);
  }

  /** Taken before a lookup starts, and passed to `set` when it ends. */
  version(): number {
    return this.generation;
  }

  /** Keeps `value` for `ttlMs`, unless that is not positive or `deleteWhere` ran since `since`. */
  set(tokenHash: string, value: V, ttlMs: number, since = this.generation): void {
    if (ttlMs <= 0 || since !== this.generation) return;
    this.entries.set(tokenHash, value, { ttl: Math.floor(ttlMs) || 1 });
  }

  /** Drops every entry the predicate matches; returns how many. */
  deleteWhere(predicate: (value: V) => boolean): number {
    this.generation++;
    const doomed = [...this.entries.entries()].filter(([, value]) => predicate(value)).map(([key]) => key);
    for (const key of doomed) this.entries.delete(key);
    return doomed.length;
  }

  get size(): number {
    return this.entries.size;
  }
}
