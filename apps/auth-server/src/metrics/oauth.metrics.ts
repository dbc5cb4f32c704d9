import { SUPPORTED_GRANTS } from '@tessera/config';
import { ChildCache, METRIC_PREFIX } from '@tessera/metrics';
import { OAuthError, type RateLimitedEndpoint, type RateLimiter, type RateLimitObserver } from '@tessera/oauth-core';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { clientStatus } from '../http/oauth-exception.filter.js';

/** A grant_type label: one of the grants this server knows, `none` when absent, `other` for anything else a caller sent. */
export function grantLabel(values: string[]): string {
  if (values.length === 0) return 'none';
  return values.length === 1 && (SUPPORTED_GRANTS as readonly string[]).includes(values[0]) ? values[0] : 'other';
}

/** The error code a failed request is answered with, as OAuthExceptionFilter decides it. */
export function errorOutcome(error: unknown): string {
  if (error instanceof OAuthError) return error.code;
  return clientStatus(error) !== undefined ? 'invalid_request' : 'server_error';
}

/** A JWS compact serialization has exactly two dots; an opaque token has none. */
export function tokenFormat(accessToken: unknown): 'jwt' | 'opaque' {
  return typeof accessToken === 'string' && accessToken.split('.', 4).length === 3 ? 'jwt' : 'opaque';
}

/**
 * The protocol's counters: token requests by grant, format and outcome, introspections by result, revocations
 * by outcome. Outcome: `success` (`active`/`inactive` for introspection) or the RFC error code answered. No
 * client id: its values are unbounded, and the metrics are readable by whoever reaches /metrics.
 */
export class OAuthMetrics implements RateLimitObserver {
  private readonly tokens: ChildCache<{ inc(): void }>;
  private readonly introspections: ChildCache<{ inc(): void }>;
  private readonly revocations: ChildCache<{ inc(): void }>;
  private readonly throttled: ChildCache<{ inc(): void }>;
  private readonly flushes: ChildCache<{ inc(): void }>;
  private readonly flushKeys: Histogram;
  private readonly purgedRows: Counter<'kind'>;
  private readonly keyRotations: Counter;
  /** The rate limiter whose unshared counts the gauges read at scrape time (none when rate limits are off). */
  private rateLimiter: RateLimiter | null = null;

  constructor(registry: Registry) {
    const tokens = new Counter({
      name: `${METRIC_PREFIX}token_requests_total`,
      help: 'Token endpoint requests by grant_type, access-token format (none when no token was issued) and outcome (success or the error code).',
      labelNames: ['grant_type', 'format', 'outcome'],
      registers: [registry],
    });
    const introspections = new Counter({
      name: `${METRIC_PREFIX}introspection_requests_total`,
      help: 'Introspection requests by outcome: active, inactive, or the error code.',
      labelNames: ['outcome'],
      registers: [registry],
    });
    const revocations = new Counter({
      name: `${METRIC_PREFIX}revocation_requests_total`,
      help: 'Revocation requests by outcome: success (also for an unknown or foreign token, RFC 7009 §2.2) or the error code.',
      labelNames: ['outcome'],
      registers: [registry],
    });
    const limited = new Counter({
      name: `${METRIC_PREFIX}rate_limited_requests_total`,
      help: 'Requests refused 429 too_many_requests, by endpoint group and the limit they went over (client or address).',
      labelNames: ['endpoint', 'limit'],
      registers: [registry],
    });
    const flushes = new Counter({
      name: `${METRIC_PREFIX}rate_limit_flushes_total`,
      help: "Flushes of this instance's rate-limit counts to the shared ones in PostgreSQL, by outcome (ok or failed).",
      labelNames: ['outcome'],
      registers: [registry],
    });
    this.flushKeys = new Histogram({
      name: `${METRIC_PREFIX}rate_limit_flush_keys`,
      help: 'Keys (a client or an address, per endpoint group) sent per rate-limit flush.',
      buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000],
      registers: [registry],
    });
    const metrics = this;
    new Gauge({
      name: `${METRIC_PREFIX}rate_limit_unshared_hits`,
      help: 'Requests this instance admitted that the shared rate-limit counts do not hold yet (a flush under way, or PostgreSQL unreachable).',
      registers: [registry],
      collect() {
        if (metrics.rateLimiter) this.set(metrics.rateLimiter.unsharedHits);
      },
    });
    new Gauge({
      name: `${METRIC_PREFIX}rate_limit_sharing_failed`,
      help: "1 while this instance's latest rate-limit flush failed (it limits from its own counts meanwhile), else 0.",
      registers: [registry],
      collect() {
        if (metrics.rateLimiter) this.set(metrics.rateLimiter.sharingFailed ? 1 : 0);
      },
    });
    new Gauge({
      name: `${METRIC_PREFIX}rate_limit_tracked_keys`,
      help: 'Rate-limit keys this instance holds in memory (the largest of its maps; bounded).',
      registers: [registry],
      collect() {
        if (metrics.rateLimiter) this.set(metrics.rateLimiter.trackedKeys);
      },
    });
    this.purgedRows = new Counter({
      name: `${METRIC_PREFIX}purged_rows_total`,
      help: 'Rows this instance deleted in its purges of what can no longer matter, by kind.',
      labelNames: ['kind'],
      registers: [registry],
    });
    this.keyRotations = new Counter({
      name: `${METRIC_PREFIX}scheduled_key_rotations_total`,
      help: 'Signing keys this instance rotated on schedule (TESSERA_KEY_ROTATION_INTERVAL).',
      registers: [registry],
    });
    this.tokens = new ChildCache((grant, format, outcome) => tokens.labels(grant, format, outcome));
    this.throttled = new ChildCache((endpoint, limit) => limited.labels(endpoint, limit));
    this.flushes = new ChildCache((outcome) => flushes.labels(outcome));
    this.introspections = new ChildCache((outcome) => introspections.labels(outcome));
    this.revocations = new ChildCache((outcome) => revocations.labels(outcome));
  }

  token(grantType: string, format: 'jwt' | 'opaque' | 'none', outcome: string): void {
    this.tokens.get(grantType, format, outcome).inc();
  }

  introspection(outcome: string): void {
    this.introspections.get(outcome).inc();
  }

  revocation(outcome: string): void {
    this.revocations.get(outcome).inc();
  }

  /** RateLimitObserver: a request refused over a limit. */
  limited(endpoint: RateLimitedEndpoint, limit: 'client' | 'address'): void {
    this.throttled.get(endpoint, limit).inc();
  }

  /** RateLimitObserver: a flush ended. */
  flushed(keys: number, ok: boolean): void {
    this.flushes.get(ok ? 'ok' : 'failed').inc();
    this.flushKeys.observe(keys);
  }

  /** The limiter the unshared-hits gauges read at scrape time. */
  watchRateLimiter(limiter: RateLimiter | null): void {
    this.rateLimiter = limiter;
  }

  /** A purge's deleted rows per kind (camelCase kinds become snake_case labels). */
  purged(rows: Record<string, number>): void {
    for (const [kind, n] of Object.entries(rows)) this.purgedRows.labels(snakeCase(kind)).inc(n);
  }

  scheduledKeyRotation(): void {
    this.keyRotations.inc();
  }
}

function snakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}
