import { DatabaseFailureLog } from './database-failure.log.js';
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
  type ServerStorage,
} from '@tessera/oauth-core';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from './data-source.js';
import { isDatabaseOutage } from './database-outage.js';
import { ExpiredRowPurger } from './expired-row.purger.js';
import type { GroupCommitObserver } from './group-commit.js';
import { PostgresChangeFeed } from './postgres-change.feed.js';
import { TypeOrmHealthCheck } from './typeorm-health.check.js';
import { typeOrmStorage } from './typeorm.storage.js';

/** The provider of every storage port at once (`ServerStorage`), what the composition function is given. */
export const SERVER_STORAGE = Symbol('SERVER_STORAGE');

/** Each port, provided by itself too, from the same storage. */
const PORTS: [abstract new (...args: never[]) => unknown, keyof ServerStorage][] = [
  [ClientRepository, 'clients'],
  [AccessTokenRepository, 'accessTokens'],
  [RevocationRepository, 'revocations'],
  [AuthorizationCodeRepository, 'authorizationCodes'],
  [RefreshTokenRepository, 'refreshTokens'],
  [UserRepository, 'users'],
  [SigningKeyRepository, 'signingKeys'],
  [SessionRepository, 'sessions'],
  [ConsentRepository, 'consents'],
  [SignInFailureRepository, 'signInFailures'],
];

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
  /** Told the rows of each group-commit statement (the auth server's metrics); default no one. */
  groupCommits?: GroupCommitObserver;
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
        {
          provide: ChangeFeed,
          // Injecting DataSource orders this after the boot-time connection (and its retries). Closed on module destroy.
          ...withDataSource(async () => {
            const feed = new PostgresChangeFeed({ url: options.url });
            await feed.start();
            return feed;
          }),
        },
        {
          provide: SERVER_STORAGE,
          useFactory: (ds: DataSource, changes: ChangeFeed) => typeOrmStorage(ds, { maxTokenTtlSeconds: options.maxTokenTtlSeconds, changes, groupCommits: options.groupCommits }),
          inject: [DataSource, ChangeFeed],
        },
        ...PORTS.map(([provide, port]) => ({ provide, useFactory: (storage: ServerStorage) => storage[port], inject: [SERVER_STORAGE] })),
        { provide: HealthCheck, ...withDataSource((ds) => new TypeOrmHealthCheck(ds)) },
        { provide: ExpiredRowPurger, ...withDataSource((ds) => new ExpiredRowPurger(ds)) },
        { provide: DatabaseFailureLog, ...withDataSource((ds) => new DatabaseFailureLog(ds)) },
      ],
      exports: [
        SERVER_STORAGE,
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
        ExpiredRowPurger,
        DatabaseFailureLog,
      ],
    };
  }
}
