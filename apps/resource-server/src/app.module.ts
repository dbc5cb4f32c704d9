import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { TypeOrmModule, type TypeOrmModuleOptions } from '@nestjs/typeorm';
import type { Registry } from 'prom-client';
import type { ResourceServerConfig } from '@tessera/config';
import { createMetricsRegistry, METRIC_PREFIX, MetricsModule } from '@tessera/metrics';
import { DatabaseFailureLog, isDatabaseOutage } from '@tessera/persistence';
import { DataSource } from 'typeorm';
import { TokenGuardModule, type TokenGuardOptions } from '@tessera/token-guard';
import { dataSourceOptions } from './database/data-source.js';
import { HealthController } from './health/health.controller.js';
import { ApiExceptionFilter } from './http/api-exception.filter.js';
import { StoppingGuard } from './http/stopping.js';
import { IntrospectionCredentials } from './introspection/introspection-credentials.js';
import { IntrospectionModule } from './introspection/introspection.module.js';
import { NotesModule } from './notes/notes.module.js';

/** The sample resource server: notes at /api/notes behind TokenGuard, on a database of its own. */
@Module({})
export class ResourceServerModule {
  static forRoot(config: ResourceServerConfig): DynamicModule {
    const registry = createMetricsRegistry();
    return {
      module: ResourceServerModule,
      imports: [
        TypeOrmModule.forRootAsync({
          useFactory: (): TypeOrmModuleOptions => ({
            ...dataSourceOptions(config.database.url),
            migrationsRun: true, // never synchronize
            retryAttempts: 10,
            retryDelay: 1000,
            toRetry: isDatabaseOutage, // a failing migration is not retried
          }),
        }),
        MetricsModule.forRoot(config.metrics, { registry }),
        tokenGuard(config, registry),
        NotesModule,
      ],
      controllers: [HealthController],
      providers: [
        { provide: DatabaseFailureLog, useFactory: (dataSource: DataSource) => new DatabaseFailureLog(dataSource), inject: [DataSource] },
        { provide: APP_FILTER, useClass: ApiExceptionFilter },
        { provide: APP_GUARD, useClass: StoppingGuard },
      ],
    };
  }
}

/**
 * TokenGuard for this server's issuer and audience, reaching the auth server at
 * TESSERA_AUTH_SERVER_URL when set. Introspection credentials come from the
 * environment, or arrive later by self-registration: TokenGuard asks for the
 * current ones at each introspection, and starts following the revocation feed
 * (which authenticates with them) once there are some.
 */
function tokenGuard(config: ResourceServerConfig, registry: Registry): DynamicModule {
  const selfRegistering = config.introspection.credentials === null && config.introspection.initialAccessToken !== null;
  const feed = config.revocationFeed;
  return TokenGuardModule.forRootAsync({
    imports: [IntrospectionModule.forRoot(config)],
    inject: [IntrospectionCredentials],
    useFactory: (credentials: IntrospectionCredentials): TokenGuardOptions => ({
      issuer: config.issuer.url,
      authorizationServerUrl: config.authorizationServer.url ?? undefined,
      audience: config.resource.url,
      introspection: selfRegistering ? () => credentials.get() ?? undefined : (credentials.get() ?? undefined),
      // On: left to TokenGuard (it follows when the metadata advertises a feed); off: never.
      revocationFeed: { enabled: feed.enabled ? undefined : false, maxStalenessSeconds: feed.maxStalenessSeconds, onStale: feed.onStale },
      metrics: { registry, prefix: `${METRIC_PREFIX}tokenguard_` },
    }),
  });
}
