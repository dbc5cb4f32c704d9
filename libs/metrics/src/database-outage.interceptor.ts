import { Inject, Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { tap, type Observable } from 'rxjs';
import { DatabaseOutageMetrics } from './database.metrics.js';
import { UNMATCHED_ROUTE } from './http.metrics.js';

/** The route pattern of a request (`/api/notes/:id`), for labels. */
export function routeOf(context: ExecutionContext): string {
  return context.switchToHttp().getRequest<FastifyRequest>().routeOptions.url ?? UNMATCHED_ROUTE;
}

/** Counts the requests whose handler failed on a database outage (`tessera_database_outage_errors_total`). */
@Injectable()
export class DatabaseOutageInterceptor implements NestInterceptor {
  constructor(@Inject(DatabaseOutageMetrics) private readonly outages: DatabaseOutageMetrics) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle().pipe(tap({ error: (error: unknown) => this.outages.observe(error, routeOf(context)) }));
  }
}
