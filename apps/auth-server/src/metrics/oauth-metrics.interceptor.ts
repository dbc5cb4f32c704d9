import { Inject, Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { DatabaseOutageMetrics, routeOf } from '@tessera/metrics';
import type { FastifyRequest } from 'fastify';
import { tap, type Observable } from 'rxjs';
import { IntrospectionController } from '../oauth/introspection.controller.js';
import { RevocationController } from '../oauth/revocation.controller.js';
import { TokenController } from '../oauth/token.controller.js';
import { errorOutcome, grantLabel, OAuthMetrics, tokenFormat } from './oauth.metrics.js';

const TOKEN = TokenController.prototype.token;
const INTROSPECT = IntrospectionController.prototype.introspect;
const REVOKE = RevocationController.prototype.revoke;

/**
 * Counts what the token, introspection and revocation handlers answered (`OAuthMetrics`), and on every route the
 * requests that failed on a database outage. Requests refused before their handler (a body that cannot be parsed,
 * the server stopping) are in the latency histogram only, by status class.
 */
@Injectable()
export class OAuthMetricsInterceptor implements NestInterceptor {
  constructor(
    @Inject(OAuthMetrics) private readonly oauth: OAuthMetrics,
    @Inject(DatabaseOutageMetrics) private readonly outages: DatabaseOutageMetrics,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const handler = context.getHandler();
    if (handler === TOKEN) {
      const grant = grantLabel(grantTypes(context));
      return next.handle().pipe(
        tap({
          next: (response) => this.oauth.token(grant, tokenFormat((response as { access_token?: unknown } | null)?.access_token), 'success'),
          error: (error: unknown) => {
            this.oauth.token(grant, 'none', errorOutcome(error));
            this.outages.observe(error, routeOf(context));
          },
        }),
      );
    }
    if (handler === INTROSPECT) {
      return next.handle().pipe(
        tap({
          next: (response) => this.oauth.introspection((response as { active?: unknown } | null)?.active === true ? 'active' : 'inactive'),
          error: (error: unknown) => {
            this.oauth.introspection(errorOutcome(error));
            this.outages.observe(error, routeOf(context));
          },
        }),
      );
    }
    if (handler === REVOKE) {
      return next.handle().pipe(
        tap({
          next: () => this.oauth.revocation('success'),
          error: (error: unknown) => {
            this.oauth.revocation(errorOutcome(error));
            this.outages.observe(error, routeOf(context));
          },
        }),
      );
    }
    return next.handle().pipe(tap({ error: (error: unknown) => this.outages.observe(error, routeOf(context)) }));
  }
}

/** grant_type as the form parser left it in the body (a list of values), before the endpoint reads it. */
function grantTypes(context: ExecutionContext): string[] {
  const body = context.switchToHttp().getRequest<FastifyRequest>().body as Record<string, unknown> | null | undefined;
  const values = typeof body === 'object' && body !== null ? body.grant_type : undefined;
  return Array.isArray(values) ? (values as string[]) : typeof values === 'string' ? [values] : [];
}
