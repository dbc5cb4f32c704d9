import { Controller, Get, Header, Inject } from '@nestjs/common';
import { Registry } from 'prom-client';

/**
 * GET /metrics on the app's own port (when no separate metrics port is set): Prometheus text exposition.
 * Unauthenticated, like /health: it holds counts, latencies and error codes, no client id, token or user.
 */
@Controller()
export class MetricsController {
  constructor(@Inject(Registry) private readonly registry: Registry) {}

  @Get('metrics')
  @Header('Content-Type', Registry.PROMETHEUS_CONTENT_TYPE)
  @Header('Cache-Control', 'no-store')
  @Header('X-Content-Type-Options', 'nosniff')
  metrics(): Promise<string> {
    return this.registry.metrics();
  }
}
