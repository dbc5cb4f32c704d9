import { accessTokenRepositoryContract } from './contracts/access-token.repository.contract.js';
import { clientRepositoryContract } from './contracts/client.repository.contract.js';
import type { ContractPorts } from './contracts/contract-ports.js';
import { revocationRepositoryContract } from './contracts/revocation.repository.contract.js';
import { signingKeyRepositoryContract } from './contracts/signing-key.repository.contract.js';
import { authorizationCodeRepositoryContract } from './contracts/authorization-code.repository.contract.js';
import { refreshTokenRepositoryContract } from './contracts/refresh-token.repository.contract.js';
import { userRepositoryContract } from './contracts/user.repository.contract.js';
import { InMemoryAuthorizationCodeRepository } from './in-memory-authorization-code.repository.js';
import { InMemoryRefreshTokenRepository } from './in-memory-refresh-token.repository.js';
import { InMemoryUserRepository } from './in-memory-user.repository.js';
import { InMemoryAccessTokenRepository } from './in-memory-access-token.repository.js';
import { InMemoryClientRepository } from './in-memory-client.repository.js';
import { InMemoryRevocationRepository } from './in-memory-revocation.repository.js';
import { InMemorySigningKeyRepository } from './in-memory-signing-key.repository.js';

async function inMemoryPorts(): Promise<ContractPorts> {
  const revocations = new InMemoryRevocationRepository();
  const refreshTokens = new InMemoryRefreshTokenRepository(revocations);
  return {
    users: new InMemoryUserRepository(revocations, refreshTokens),
    authorizationCodes: new InMemoryAuthorizationCodeRepository(),
    refreshTokens,
    clients: new InMemoryClientRepository(revocations),
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
