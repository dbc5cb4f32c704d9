import { LocalChangeFeed, type ServerStorage } from '@tessera/oauth-core';
import { InMemoryAccessTokenRepository } from './in-memory-access-token.repository.js';
import { InMemoryAuthorizationCodeRepository } from './in-memory-authorization-code.repository.js';
import { InMemoryClientRepository } from './in-memory-client.repository.js';
import { InMemoryConsentRepository } from './in-memory-consent.repository.js';
import { InMemoryRateLimitRepository } from './in-memory-rate-limit.repository.js';
import { InMemoryRefreshTokenRepository } from './in-memory-refresh-token.repository.js';
import { InMemoryRevocationRepository } from './in-memory-revocation.repository.js';
import { InMemorySessionRepository } from './in-memory-session.repository.js';
import { InMemorySignInFailureRepository } from './in-memory-sign-in-failure.repository.js';
import { InMemorySigningKeyRepository } from './in-memory-signing-key.repository.js';
import { InMemoryUserRepository } from './in-memory-user.repository.js';

/** Every storage port in memory, sharing one store (revoking a user or a client reaches its tokens), and a local change feed. */
export function inMemoryStorage(): ServerStorage & { changes: LocalChangeFeed } {
  const revocations = new InMemoryRevocationRepository();
  const refreshTokens = new InMemoryRefreshTokenRepository(revocations);
  const users = new InMemoryUserRepository(revocations, refreshTokens);
  const authorizationCodes = new InMemoryAuthorizationCodeRepository();
  return {
    clients: new InMemoryClientRepository(revocations, refreshTokens, authorizationCodes),
    accessTokens: new InMemoryAccessTokenRepository(revocations),
    refreshTokens,
    authorizationCodes,
    revocations,
    signingKeys: new InMemorySigningKeyRepository(revocations),
    users,
    sessions: new InMemorySessionRepository(users),
    consents: new InMemoryConsentRepository(revocations, refreshTokens),
    signInFailures: new InMemorySignInFailureRepository(),
    rateLimits: new InMemoryRateLimitRepository(),
    changes: new LocalChangeFeed(),
  };
}
