import { accessTokenRepositoryContract } from './contracts/access-token.repository.contract.js';
import { clientRepositoryContract } from './contracts/client.repository.contract.js';
import type { ContractPorts } from './contracts/contract-ports.js';
import { revocationRepositoryContract } from './contracts/revocation.repository.contract.js';
import { signingKeyRepositoryContract } from './contracts/signing-key.repository.contract.js';
import { authorizationCodeRepositoryContract } from './contracts/authorization-code.repository.contract.js';
import { refreshTokenRepositoryContract } from './contracts/refresh-token.repository.contract.js';
import { userRepositoryContract } from './contracts/user.repository.contract.js';
import { sessionRepositoryContract } from './contracts/session.repository.contract.js';
import { consentRepositoryContract } from './contracts/consent.repository.contract.js';
import { signInFailureRepositoryContract } from './contracts/sign-in-failure.repository.contract.js';
import { InMemoryAuthorizationCodeRepository } from './in-memory-authorization-code.repository.js';
import { InMemoryRefreshTokenRepository } from './in-memory-refresh-token.repository.js';
import { InMemoryUserRepository } from './in-memory-user.repository.js';
import { InMemoryAccessTokenRepository } from './in-memory-access-token.repository.js';
import { InMemoryClientRepository } from './in-memory-client.repository.js';
import { InMemoryRevocationRepository } from './in-memory-revocation.repository.js';
import { InMemorySigningKeyRepository } from './in-memory-signing-key.repository.js';
import { InMemorySessionRepository } from './in-memory-session.repository.js';
import { InMemoryConsentRepository } from './in-memory-consent.repository.js';
import { InMemorySignInFailureRepository } from './in-memory-sign-in-failure.repository.js';
import { InMemoryRateLimitRepository } from './in-memory-rate-limit.repository.js';
import { rateLimitRepositoryContract } from './contracts/rate-limit.repository.contract.js';

async function inMemoryPorts(): Promise<ContractPorts> {
  const revocations = new InMemoryRevocationRepository();
  const refreshTokens = new InMemoryRefreshTokenRepository(revocations);
  const users = new InMemoryUserRepository(revocations, refreshTokens);
  const authorizationCodes = new InMemoryAuthorizationCodeRepository();
  return {
    users,
    sessions: new InMemorySessionRepository(users),
    consents: new InMemoryConsentRepository(revocations, refreshTokens),
    signInFailures: new InMemorySignInFailureRepository(),
    rateLimits: new InMemoryRateLimitRepository(),
    authorizationCodes,
    refreshTokens,
    clients: new InMemoryClientRepository(revocations, refreshTokens, authorizationCodes),
    accessTokens: new InMemoryAccessTokenRepository(revocations),
    revocations,
    signingKeys: new InMemorySigningKeyRepository(revocations),
    markIssuedBefore: async (m) => revocations.markIssuedBefore(m),
  };
}

clientRepositoryContract('in-memory', inMemoryPorts);
accessTokenRepositoryContract('in-memory', inMemoryPorts);
revocationRepositoryContract('in-memory', inMemoryPorts);
signingKeyRepositoryContract('in-memory', inMemoryPorts);
userRepositoryContract('in-memory', inMemoryPorts);
authorizationCodeRepositoryContract('in-memory', inMemoryPorts);
refreshTokenRepositoryContract('in-memory', inMemoryPorts);
sessionRepositoryContract('in-memory', inMemoryPorts);
consentRepositoryContract('in-memory', inMemoryPorts);
signInFailureRepositoryContract('in-memory', inMemoryPorts);
rateLimitRepositoryContract('in-memory', inMemoryPorts);
