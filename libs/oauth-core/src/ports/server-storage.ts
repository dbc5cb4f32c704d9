import type { AccessTokenRepository } from './access-token.repository.js';
import type { AuthorizationCodeRepository } from './authorization-code.repository.js';
import type { ChangeFeed } from './change-feed.port.js';
import type { ClientRepository } from './client.repository.js';
import type { ConsentRepository } from './consent.repository.js';
import type { RateLimitRepository } from './rate-limit.repository.js';
import type { RefreshTokenRepository } from './refresh-token.repository.js';
import type { RevocationRepository } from './revocation.repository.js';
import type { SessionRepository } from './session.repository.js';
import type { SignInFailureRepository } from './sign-in-failure.repository.js';
import type { SigningKeyRepository } from './signing-key.repository.js';
import type { UserRepository } from './user.repository.js';

/**
 * Every storage port an authorization server is built on, from one store: what a storage adapter hands to the
 * composition function (`typeOrmStorage` on PostgreSQL, `inMemoryStorage` in tests).
 */
export interface ServerStorage {
  clients: ClientRepository;
  accessTokens: AccessTokenRepository;
  refreshTokens: RefreshTokenRepository;
  authorizationCodes: AuthorizationCodeRepository;
  revocations: RevocationRepository;
  signingKeys: SigningKeyRepository;
  users: UserRepository;
  sessions: SessionRepository;
  consents: ConsentRepository;
  signInFailures: SignInFailureRepository;
  /** Request counts of the rate limits, shared by every instance. */
  rateLimits: RateLimitRepository;
  /** What other instances (and the CLI) changed: clients, signing keys. */
  changes: ChangeFeed;
}
