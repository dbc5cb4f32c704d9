import { Module, type DynamicModule } from '@nestjs/common';
import type { AuthServerConfig } from '@tessera/config';
import { createMetricsRegistry, DatabaseOutageMetrics, MetricsModule } from '@tessera/metrics';
import { OAuthMetrics } from './oauth.metrics.js';
import { OAuthOutcomes } from './oauth-outcomes.js';

/**
 * The auth server's metrics: the shared ones (process, requests, database) and the protocol's (`OAuthMetrics`),
 * counted through `OAuthOutcomes` by the controllers and the exception filters (no interceptor).
 */
@Module({})
export class AuthServerMetricsModule {
  /** `registry`: the app's (AppModule creates it, to hand the persistence its group-commit metrics too). */
  static forRoot(config: AuthServerConfig, registry = createMetricsRegistry()): DynamicModule {
    return {
      module: AuthServerMetricsModule,
      global: true, // the controllers and the exception filters inject OAuthOutcomes
      imports: [MetricsModule.forRoot(config.metrics, { registry, interceptor: null })],
      providers: [
        { provide: OAuthMetrics, useValue: new OAuthMetrics(registry) },
        { provide: OAuthOutcomes, useFactory: (oauth: OAuthMetrics, outages: DatabaseOutageMetrics) => new OAuthOutcomes(oauth, outages), inject: [OAuthMetrics, DatabaseOutageMetrics] },
      ],
      exports: [OAuthMetrics, OAuthOutcomes],
    };
  }
}
