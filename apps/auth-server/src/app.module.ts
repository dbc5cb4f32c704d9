import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import type { AuthServerConfig } from '@tessera/config';
import { PersistenceModule } from '@tessera/persistence';
import { HealthController } from './health/health.controller.js';
import { OAuthExceptionFilter } from './http/oauth-exception.filter.js';
import { StoppingGuard } from './http/stopping.js';
import { OAuthModule } from './oauth/oauth.module.js';

@Module({})
export class AppModule {
  static forRoot(config: AuthServerConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        PersistenceModule.forRoot({ url: config.database.url, maxTokenTtlSeconds: config.tokens.maxAccessTokenTtl }),
        OAuthModule.forRoot(config),
      ],
      controllers: [HealthController],
      providers: [
        { provide: APP_FILTER, useValue: new OAuthExceptionFilter() },
        { provide: APP_GUARD, useClass: StoppingGuard },
      ],
    };
  }
}
