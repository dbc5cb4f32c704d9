import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import type { AuthServerConfig } from '@tessera/config';
import { DatabaseFailureLog, PersistenceModule } from '@tessera/persistence';
import { createMetricsRegistry, groupCommitMetrics } from '@tessera/metrics';
import type { ComposeOptions } from '@tessera/server';
import { HealthController } from './health/health.controller.js';
import { OAuthExceptionFilter } from './http/oauth-exception.filter.js';
import { StoppingGuard } from './http/stopping.js';
import { AuthServerMetricsModule } from './metrics/metrics.module.js';
import { OAuthOutcomes } from './metrics/oauth-outcomes.js';
import { OAuthModule } from './oauth/oauth.module.js';

@Module({})
export class AppModule {
  /** `options`: what replaces production's clock, randomness or password hasher (in tests). */
  static forRoot(config: AuthServerConfig, options: ComposeOptions = {}): DynamicModule {
    const registry = createMetricsRegistry();
    return {
      module: AppModule,
      imports: [
        PersistenceModule.forRoot({ url: config.database.url, maxTokenTtlSeconds: config.tokens.maxAccessTokenTtl, groupCommits: groupCommitMetrics(registry) }),
        OAuthModule.forRoot(config, options),
        AuthServerMetricsModule.forRoot(config, registry),
      ],
      controllers: [HealthController],
      providers: [
        {
          provide: APP_FILTER,
          useFactory: (failures: DatabaseFailureLog, outcomes: OAuthOutcomes) => new OAuthExceptionFilter(failures, undefined, outcomes),
          inject: [DatabaseFailureLog, OAuthOutcomes],
        },
        { provide: APP_GUARD, useClass: StoppingGuard },
      ],
    };
  }
}
