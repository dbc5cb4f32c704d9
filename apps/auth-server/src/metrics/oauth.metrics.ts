import { SUPPORTED_GRANTS } from '@tessera/config';
import { ChildCache, METRIC_PREFIX } from '@tessera/metrics';
import { OAuthError } from '@tessera/oauth-core';
import { Counter, Registry } from 'prom-client';
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
export class OAuthMetrics {
  private readonly tokens: ChildCache<{ inc(): void }>;
  private readonly introspections: ChildCache<{ inc(): void }>;
  private readonly revocations: ChildCache<{ inc(): void }>;

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
    this.tokens = new ChildCache((grant, format, outcome) => tokens.labels(grant, format, outcome));
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
}
