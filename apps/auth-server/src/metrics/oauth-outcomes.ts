import { DatabaseOutageMetrics, UNMATCHED_ROUTE } from '@tessera/metrics';
import { ENDPOINT_PATHS } from '@tessera/oauth-core';
import type { FastifyRequest } from 'fastify';
import { errorOutcome, grantLabel, OAuthMetrics, tokenFormat } from './oauth.metrics.js';

const REACHED = Symbol('tessera.reachedHandler');

/** Marks a request as having reached its handler (its parameters are being read): from here its outcome counts. */
export function markHandlerReached(request: FastifyRequest): void {
  (request as unknown as Record<symbol, boolean>)[REACHED] = true;
}

/**
 * What the token, introspection and revocation handlers answered (`OAuthMetrics`), and on every route the requests
 * that failed on a database outage. Successes are counted by the controllers, failures by the exception filters,
 * without a Nest interceptor (whose Observable pipeline costs more per request than the counting). Requests refused
 * before their handler (a body that cannot be parsed, the server stopping, the per-address rate limit) are in the
 * latency histogram only, by status class.
 */
export class OAuthOutcomes {
  constructor(
    private readonly oauth: OAuthMetrics,
    private readonly outages: DatabaseOutageMetrics,
  ) {}

  issued(grantType: string | undefined, response: { access_token?: unknown }): void {
    this.oauth.token(grantLabel(grantType === undefined ? [] : [grantType]), tokenFormat(response.access_token), 'success');
  }

  introspected(response: { active?: unknown }): void {
    this.oauth.introspection(response.active === true ? 'active' : 'inactive');
  }

  revoked(): void {
    this.oauth.revocation('success');
  }

  /** A request that failed, on any route (from the exception filters). */
  failed(request: FastifyRequest, error: unknown): void {
    const route = request.routeOptions.url ?? UNMATCHED_ROUTE;
    this.outages.observe(error, route);
    if ((request as unknown as Record<symbol, boolean | undefined>)[REACHED] !== true) return;
    if (route === ENDPOINT_PATHS.token && request.method === 'POST') this.oauth.token(grantLabel(grantTypes(request)), 'none', errorOutcome(error));
    else if (route === ENDPOINT_PATHS.introspection && request.method === 'POST') this.oauth.introspection(errorOutcome(error));
    else if (route === ENDPOINT_PATHS.revocation && request.method === 'POST') this.oauth.revocation(errorOutcome(error));
  }
}

/** grant_type as the form parser left it in the body (a list of values), before the endpoint reads it. */
function grantTypes(request: FastifyRequest): string[] {
  const body = request.body as Record<string, unknown> | null | undefined;
  const values = typeof body === 'object' && body !== null ? body.grant_type : undefined;
  return Array.isArray(values) ? (values as string[]) : typeof values === 'string' ? [values] : [];
}
