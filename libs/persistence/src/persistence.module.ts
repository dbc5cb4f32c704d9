import { Module, type DynamicModule } from '@nestjs/common';
import { TypeOrmModule, type TypeOrmModuleOptions } from '@nestjs/typeorm';
import {
  AccessTokenRepository,
  AuthorizationCodeRepository,
  RefreshTokenRepository,
  UserRepository,
  ChangeFeed,
  ClientRepository,
  HealthCheck,
  RevocationRepository,
  SigningKeyRepository,
  SessionRepository,
  ConsentRepository,
  SignInFailureRepository,
} from '@tessera/oauth-core';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from './data-source.js';
import { isDatabaseOutage } from './database-outage.js';
import { PostgresChangeFeed } from './postgres-change.feed.js';
import { TypeOrmAccessTokenRepository } from './typeorm-access-token.repository.js';
import { TypeOrmAuthorizationCodeRepository } from './typeorm-authorization-code.repository.js';
import { TypeOrmRefreshTokenRepository } from './typeorm-refresh-token.repository.js';
import { TypeOrmUserRepository } from './typeorm-user.repository.js';
import { TypeOrmClientRepository } from './typeorm-client.repository.js';
import { TypeOrmHealthCheck } from './typeorm-health.check.js';
import { TypeOrmRevocationRepository } from './typeorm-revocation.repository.js';
import { TypeOrmSigningKeyRepository } from './typeorm-signing-key.repository.js';
import { TypeOrmSessionRepository } from './typeorm-session.repository.js';
import { TypeOrmConsentRepository } from './typeorm-consent.repository.js';
import { TypeOrmSignInFailureRepository } from './typeorm-sign-in-failure.repository.js';

export interface PersistenceOptions {
  /** postgres://user:password@host:port/database */
  url: string;
  /** Apply pending migrations at boot. Default true. */
  migrationsRun?: boolean;
  /** The longest lifetime of any token, in seconds: how long an issued-before revocation must be kept. */
  maxTokenTtlSeconds?: number;
  /** Connection attempts at boot while PostgreSQL is unreachable, `retryDelayMs` apart. Defaults 10 and 1000. */
  retryAttempts?: number;
  retryDelayMs?: number;
}

/**
 * The TypeORM/PostgreSQL adapters of the core ports, global: import it once in
 * an app module, then inject `ClientRepository`, `ChangeFeed`, … anywhere.
 */
@Module({})
export class PersistenceModule {
  static forRoot(options: PersistenceOptions): DynamicModule {
    const withDataSource = <T>(make: (dataSource: DataSource) => T) => ({ useFactory: make, inject: [DataSource] });
    return {
      module: PersistenceModule,
      global: true,
      imports: [
        TypeOrmModule.forRootAsync({
          useFactory: (): TypeOrmModuleOptions => ({
            ...dataSourceOptions(options.url),
            migrationsRun: options.migrationsRun ?? true,
            retryAttempts: options.retryAttempts ?? 10,
            retryDelay: options.retryDelayMs ?? 1000,
            toRetry: isDatabaseOutage, // a failing migration is not retried
          }),
        }),
      ],
      providers: [
        { provide: ClientRepository, ...withDataSource((ds) => new TypeOrmClientRepository(ds, options.maxTokenTtlSeconds)) },
        { provide: AccessTokenRepository, ...withDataSource((ds) => new TypeOrmAccessTokenRepository(ds)) },
        { provide: RevocationRepository, ...withDataSource((ds) => new TypeOrmRevocationRepository(ds, options.maxTokenTtlSeconds)) },
        { provide: AuthorizationCodeRepository, ...withDataSource((ds) => new TypeOrmAuthorizationCodeRepository(ds)) },
        { provide: RefreshTokenRepository, ...withDataSource((ds) => new TypeOrmRefreshTokenRepository(ds, options.maxTokenTtlSeconds)) },
        { provide: UserRepository, ...withDataSource((ds) => new TypeOrmUserRepository(ds, options.maxTokenTtlSeconds)) },
        { provide: SigningKeyRepository, ...withDataSource((ds) => new TypeOrmSigningKeyRepository(ds)) },
        { provide: SessionRepository, ...withDataSource((ds) => new TypeOrmSessionRepository(ds)) },
        { provide: ConsentRepository, ...withDataSource((ds) => new TypeOrmConsentRepository(ds, options.maxTokenTtlSeconds)) },
        { provide: SignInFailureRepository, ...withDataSource((ds) => new TypeOrmSignInFailureRepository(ds)) },
        { provide: HealthCheck, ...withDataSource((ds) => new TypeOrmHealthCheck(ds)) },
        {
          provide: ChangeFeed,
          // Injecting DataSource orders this after the boot-time connection (and its retries). Closed on module destroy.
          ...withDataSource(async () => {
            const feed = new PostgresChangeFeed({ url: options.url });
            await feed.start();
            return feed;
          }),
        },
      ],
      exports: [
        ClientRepository,
        AccessTokenRepository,
        RevocationRepository,
        AuthorizationCodeRepository,
        RefreshTokenRepository,
        UserRepository,
        SigningKeyRepository,
        SessionRepository,
        ConsentRepository,
        SignInFailureRepository,
        ChangeFeed,
        HealthCheck,
      ],
    };
  }
}
