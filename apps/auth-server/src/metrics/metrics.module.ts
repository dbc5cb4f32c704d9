import { Module, type DynamicModule } from '@nestjs/common';
import type { AuthServerConfig } from '@tessera/config';
import { createMetricsRegistry, MetricsModule } from '@tessera/metrics';
import { OAuthMetrics } from './oauth.metrics.js';
import { OAuthMetricsInterceptor } from './oauth-metrics.interceptor.js';

/** The auth server's metrics: the shared ones (process, requests, database) and the protocol's (`OAuthMetrics`). */
@Module({})
export class AuthServerMetricsModule {
  /** `registry`: the app's (AppModule creates it, to hand the persistence its group-commit metrics too). */
  static forRoot(config: AuthServerConfig, registry = createMetricsRegistry()): DynamicModule {
    return {
      module: AuthServerMetricsModule,
      global: true, // the interceptor MetricsModule registers injects OAuthMetrics
      imports: [MetricsModule.forRoot(config.metrics, { registry, interceptor: OAuthMetricsInterceptor })],
      providers: [{ provide: OAuthMetrics, useValue: new OAuthMetrics(registry) }],
      exports: [OAuthMetrics],
    };
  }
}
