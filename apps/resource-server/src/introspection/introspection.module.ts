import { Module, type DynamicModule } from '@nestjs/common';
import type { ResourceServerConfig } from '@tessera/config';
import { DataSource } from 'typeorm';
import { AuthorizationServerClient } from './authorization-server.client.js';
import { IntrospectionCredentials } from './introspection-credentials.js';
import { TypeOrmRegisteredClientStore } from './registered-client.store.js';

/** Provides `IntrospectionCredentials`, already started (it works in the background). */
@Module({})
export class IntrospectionModule {
  static forRoot(config: ResourceServerConfig): DynamicModule {
    return {
      module: IntrospectionModule,
      providers: [
        {
          provide: IntrospectionCredentials,
          inject: [DataSource],
          useFactory: (dataSource: DataSource) => {
            const credentials = new IntrospectionCredentials(
              { issuer: config.issuer.url, ...config.introspection, configured: config.introspection.credentials },
              new TypeOrmRegisteredClientStore(dataSource),
              // Registered under the issuer, reached where the auth server is (they differ behind a load balancer or on an internal network).
              new AuthorizationServerClient(config.authorizationServer.url ?? config.issuer.url, config.resource.url),
            );
            credentials.start();
            return credentials;
          },
        },
      ],
      exports: [IntrospectionCredentials],
    };
  }
}
