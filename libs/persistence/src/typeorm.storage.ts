import { LocalChangeFeed, type ChangeFeed, type ServerStorage } from '@tessera/oauth-core';
import type { DataSource } from 'typeorm';
import type { GroupCommitObserver } from './group-commit.js';
import { TypeOrmAccessTokenRepository } from './typeorm-access-token.repository.js';
import { TypeOrmAuthorizationCodeRepository } from './typeorm-authorization-code.repository.js';
import { TypeOrmClientRepository } from './typeorm-client.repository.js';
import { TypeOrmConsentRepository } from './typeorm-consent.repository.js';
import { TypeOrmRateLimitRepository } from './typeorm-rate-limit.repository.js';
import { TypeOrmRefreshTokenRepository } from './typeorm-refresh-token.repository.js';
import { TypeOrmRevocationRepository } from './typeorm-revocation.repository.js';
import { TypeOrmSessionRepository } from './typeorm-session.repository.js';
import { TypeOrmSignInFailureRepository } from './typeorm-sign-in-failure.repository.js';
import { TypeOrmSigningKeyRepository } from './typeorm-signing-key.repository.js';
import { TypeOrmUserRepository } from './typeorm-user.repository.js';

export interface TypeOrmStorageOptions {
  /** The longest lifetime of any token, in seconds: how long an issued-before revocation must be kept. */
  maxTokenTtlSeconds?: number;
  /**
   * What other processes changed. A server passes a started `PostgresChangeFeed`; without one, changes made
   * here are still announced to the servers (the repositories NOTIFY as they write), but this process hears
   * only its own (enough for a CLI command).
   */
  changes?: ChangeFeed;
  /** Told the rows of each group-commit statement (metrics); default no one. */
  groupCommits?: GroupCommitObserver;
}

/** The TypeORM/PostgreSQL adapters of every storage port, on one (initialized) data source. No framework needed. */
export function typeOrmStorage(dataSource: DataSource, options: TypeOrmStorageOptions = {}): ServerStorage {
  const ttl = options.maxTokenTtlSeconds;
  return {
    clients: new TypeOrmClientRepository(dataSource, ttl),
    accessTokens: new TypeOrmAccessTokenRepository(dataSource, options.groupCommits),
    refreshTokens: new TypeOrmRefreshTokenRepository(dataSource, ttl, options.groupCommits),
    authorizationCodes: new TypeOrmAuthorizationCodeRepository(dataSource),
    revocations: new TypeOrmRevocationRepository(dataSource, ttl, options.groupCommits),
    signingKeys: new TypeOrmSigningKeyRepository(dataSource),
    users: new TypeOrmUserRepository(dataSource, ttl),
    sessions: new TypeOrmSessionRepository(dataSource),
    consents: new TypeOrmConsentRepository(dataSource, ttl),
    signInFailures: new TypeOrmSignInFailureRepository(dataSource),
    rateLimits: new TypeOrmRateLimitRepository(dataSource),
    changes: options.changes ?? new LocalChangeFeed(),
  };
}
