import { hashToken } from '@tessera/tokens';
import { SingleFlight } from './single-flight.js';
import { TokenCache } from './token.cache.js';
import type { TokenRecord } from './verified-access-token.js';

/** What introspection (RFC 7662) and our own checks of its answer concluded about a token. */
export type IntrospectionOutcome = { active: true; record: TokenRecord } | { active: false; reason: string };

export interface IntrospectionCacheOptions {
  ttlSeconds: number;
  inactiveTtlSeconds: number;
  maxEntries: number;
}

/**
 * Introspection results by SHA-256 of the token: an active one for at most
 * min(ttl, the token's remaining lifetime), an inactive one for the inactive
 * ttl. Concurrent checks of one token share a single call. A failed call
 * (auth server unreachable) is not cached: its error goes to every waiter.
 */
export class IntrospectionCache {
  private readonly cache: TokenCache<IntrospectionOutcome>;
  private readonly inflight = new SingleFlight<string, IntrospectionOutcome>();

  constructor(
    private readonly introspect: (token: string) => Promise<IntrospectionOutcome>,
    private readonly options: IntrospectionCacheOptions,
    private readonly now: () => number = Date.now,
  ) {
    this.cache = new TokenCache(options.maxEntries, now);
  }

  /** The cached outcome for this token, if any: no call, no waiting. `key`: the token's hash, when already computed. */
  cached(token: string, key = hashToken(token)): IntrospectionOutcome | undefined {
    return this.cache.get(key);
  }

  /** Asks the auth server now, bypassing the cache (the outcome is not kept either). */
  fresh(token: string): Promise<IntrospectionOutcome> {
    return this.introspect(token);
  }

  async check(token: string, key = hashToken(token)): Promise<IntrospectionOutcome> {
    return (
      this.cache.get(key) ??
      this.inflight.run(key, async () => {
        const since = this.cache.version();
        const outcome = await this.introspect(token);
        this.cache.set(key, outcome, this.lifetimeMs(outcome), since);
        return outcome;
      })
    );
  }

  /** Drops the active results the predicate matches (the revocation-feed hook); returns how many. */
  deleteWhere(predicate: (record: TokenRecord) => boolean): number {
    return this.cache.deleteWhere((outcome) => outcome.active && predicate(outcome.record));
  }

  get size(): number {
    return this.cache.size;
  }

  private lifetimeMs(outcome: IntrospectionOutcome): number {
    if (!outcome.active) return this.options.inactiveTtlSeconds * 1000;
    return Math.min(this.options.ttlSeconds * 1000, outcome.record.token.expiresAt.getTime() - this.now());
  }
}
