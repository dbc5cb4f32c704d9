import type { RevocationFeedFollower } from './revocation-feed.follower.js';

/** Why TokenGuard refused a request: the RFC 6750 error code, or `missing_token` (no credentials, §3.1). */
export type TokenGuardRejection = 'missing_token' | 'invalid_request' | 'invalid_token' | 'insufficient_scope' | 'temporarily_unavailable';

/**
 * What TokenGuard needs of a prom-client `Registry`: its `registerMetric`. TokenGuard does not depend on prom-client:
 * it registers collectors of its own shape (name, help, type, `get()`), read at scrape time.
 */
export interface MetricsRegistry {
  registerMetric(metric: never): void;
}

export interface TokenGuardMetricsOptions {
  /** A prom-client `Registry` (the app's own, or prom-client's global `register`). */
  registry: MetricsRegistry;
  /** Prefix of every metric name; default `tokenguard_`. */
  prefix?: string;
}

/** TokenGuard's counts since start, as `TokenGuardStatus.metrics()` returns them. */
export interface TokenGuardMetricsSnapshot {
  /** Requests let through, by the format of their token. */
  accepted: { jwt: number; opaque: number };
  /** Requests refused, by reason. */
  rejected: Record<TokenGuardRejection, number>;
  /** Tokens found verified in the cache (no signature check, no introspection) and tokens that had to be verified. */
  cache: { hits: number; misses: number };
  /** Seconds since the revocation feed last proved current; null while not following it or not caught up. */
  revocationFeedLagSeconds: number | null;
}

/** Plain counters, bumped on the guard's hot path (no allocation, no label lookup); read by the collectors at scrape time. */
export class TokenGuardCounts {
  acceptedJwt = 0;
  acceptedOpaque = 0;
  cacheHits = 0;
  cacheMisses = 0;
  readonly rejected: Record<TokenGuardRejection, number> = {
    missing_token: 0,
    invalid_request: 0,
    invalid_token: 0,
    insufficient_scope: 0,
    temporarily_unavailable: 0,
  };

  constructor(private readonly follower: RevocationFeedFollower | null = null) {}

  snapshot(): TokenGuardMetricsSnapshot {
    return {
      accepted: { jwt: this.acceptedJwt, opaque: this.acceptedOpaque },
      rejected: { ...this.rejected },
      cache: { hits: this.cacheHits, misses: this.cacheMisses },
      revocationFeedLagSeconds: this.follower?.lagSeconds() ?? null,
    };
  }

  /** Registers the collectors of these counts in `options.registry`. */
  register({ registry, prefix = 'tokenguard_' }: TokenGuardMetricsOptions): void {
    type Value = { value: number; labels: Record<string, string> };
    const collector = (name: string, help: string, type: 'counter' | 'gauge', values: () => Value[]) => {
      const full = `${prefix}${name}`;
      registry.registerMetric({
        name: full,
        help,
        type,
        aggregator: 'sum',
        get: async () => ({ name: full, help, type, aggregator: 'sum', values: values() }),
        reset: () => {},
      } as never);
    };
    collector('accepted_total', 'Requests TokenGuard let through, by access-token format.', 'counter', () => [
      { value: this.acceptedJwt, labels: { format: 'jwt' } },
      { value: this.acceptedOpaque, labels: { format: 'opaque' } },
    ]);
    collector('rejected_total', 'Requests TokenGuard refused, by reason (the RFC 6750 error code, or missing_token).', 'counter', () =>
      Object.entries(this.rejected).map(([reason, value]) => ({ value, labels: { reason } })),
    );
    collector('cache_hits_total', 'Requests whose token was found verified in the cache (no signature check, no introspection).', 'counter', () => [
      { value: this.cacheHits, labels: {} },
    ]);
    collector('cache_misses_total', 'Requests whose token had to be verified (signature check or introspection).', 'counter', () => [
      { value: this.cacheMisses, labels: {} },
    ]);
    collector(
      'revocation_feed_lag_seconds',
      "Seconds since the auth server's revocation feed last proved current (an entry, a catch-up or a heartbeat); absent while not following it or not caught up.",
      'gauge',
      () => {
        const lag = this.follower?.lagSeconds();
        return lag === undefined ? [] : [{ value: lag, labels: {} }];
      },
    );
    collector('revocation_feed_stale', '1 while the revocation feed is stale (not caught up, or silent past maxStalenessSeconds), else 0; absent when not followed.', 'gauge', () =>
      this.follower?.following() ? [{ value: this.follower.stale() ? 1 : 0, labels: {} }] : [],
    );
  }
}
