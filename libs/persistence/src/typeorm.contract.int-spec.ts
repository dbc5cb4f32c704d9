import {
  accessTokenRepositoryContract,
  authorizationCodeRepositoryContract,
  refreshTokenRepositoryContract,
  userRepositoryContract,
  sessionRepositoryContract,
  consentRepositoryContract,
  signInFailureRepositoryContract,
  rateLimitRepositoryContract,
  clientRepositoryContract,
  aClient,
  createTestDatabase,
  revocationRepositoryContract,
  someClaims,
  signingKeyRepositoryContract,
  type ContractPorts,
} from '@tessera/testing';
import type { DataSource } from 'typeorm';
import { createDataSource } from './data-source.js';
import { RevocationEntity } from './entities/revocation.entity.js';
import { TypeOrmAccessTokenRepository } from './typeorm-access-token.repository.js';
import { TypeOrmAuthorizationCodeRepository } from './typeorm-authorization-code.repository.js';
import { TypeOrmClientRepository } from './typeorm-client.repository.js';
import { TypeOrmRefreshTokenRepository } from './typeorm-refresh-token.repository.js';
import { TypeOrmUserRepository } from './typeorm-user.repository.js';
import { TypeOrmSessionRepository } from './typeorm-session.repository.js';
import { TypeOrmConsentRepository } from './typeorm-consent.repository.js';
import { TypeOrmRateLimitRepository } from './typeorm-rate-limit.repository.js';
import { TypeOrmSignInFailureRepository } from './typeorm-sign-in-failure.repository.js';
import { recordIssuedBefore, TypeOrmRevocationRepository } from './typeorm-revocation.repository.js';
import { TypeOrmSigningKeyRepository } from './typeorm-signing-key.repository.js';

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let dataSource: DataSource;

beforeAll(async () => {
  db = await createTestDatabase();
  dataSource = await createDataSource(db.url).initialize();
  await dataSource.runMigrations();
});
afterAll(async () => {
  await dataSource?.destroy();
  await db?.drop();
});

async function typeOrmPorts(): Promise<ContractPorts> {
  await dataSource.query('TRUNCATE clients, access_tokens, refresh_tokens, authorization_codes, signing_keys, revocations, users, sessions, consents, sign_in_failures, rate_limit_counts');
  return {
    clients: new TypeOrmClientRepository(dataSource),
    accessTokens: new TypeOrmAccessTokenRepository(dataSource),
    revocations: new TypeOrmRevocationRepository(dataSource),
    signingKeys: new TypeOrmSigningKeyRepository(dataSource),
    users: new TypeOrmUserRepository(dataSource),
    authorizationCodes: new TypeOrmAuthorizationCodeRepository(dataSource),
    refreshTokens: new TypeOrmRefreshTokenRepository(dataSource),
    sessions: new TypeOrmSessionRepository(dataSource),
    consents: new TypeOrmConsentRepository(dataSource),
    signInFailures: new TypeOrmSignInFailureRepository(dataSource),
    rateLimits: new TypeOrmRateLimitRepository(dataSource),
    markIssuedBefore: (mark) =>
      dataSource.transaction((m) => recordIssuedBefore(m, { expiresAt: new Date('2027-01-01T00:00:00Z'), revokedAt: mark.issuedBefore, ...mark })),
  };
}

clientRepositoryContract('TypeORM', typeOrmPorts);
accessTokenRepositoryContract('TypeORM', typeOrmPorts);
revocationRepositoryContract('TypeORM', typeOrmPorts);
signingKeyRepositoryContract('TypeORM', typeOrmPorts);
userRepositoryContract('TypeORM', typeOrmPorts);
authorizationCodeRepositoryContract('TypeORM', typeOrmPorts);
refreshTokenRepositoryContract('TypeORM', typeOrmPorts);
sessionRepositoryContract('TypeORM', typeOrmPorts);
consentRepositoryContract('TypeORM', typeOrmPorts);
signInFailureRepositoryContract('TypeORM', typeOrmPorts);

describe('TypeORM revocation rows (what the revocation feed will read)', () => {
  it('appends one row per revoked jti, in seq order, with the token client and expiry', async () => {
    const { clients, accessTokens, revocations } = await typeOrmPorts();
    const client = aClient();
    await clients.create(client);
    const claims = someClaims({ clientId: client.clientId });
    await accessTokens.insert('hash-1', claims);
    const at = new Date('2026-01-01T00:05:00Z');
    await accessTokens.revoke('hash-1', at);
    await revocations.revokeToken(claims.jti, claims.clientId, claims.aud, new Date('2030-01-01T00:00:00Z'), new Date()); // already recorded
    await revocations.revokeToken('jwt-jti', client.clientId, ['https://api.example'], new Date('2026-01-01T01:00:00Z'), at);

    const rows = await dataSource.manager.find(RevocationEntity, { order: { seq: 'ASC' } });
    expect(rows).toEqual([
      expect.objectContaining({ kind: 'token', jti: claims.jti, clientId: client.clientId, audience: claims.aud, expiresAt: new Date(claims.exp * 1000), revokedAt: at }),
      expect.objectContaining({ kind: 'token', jti: 'jwt-jti', clientId: client.clientId, audience: ['https://api.example'] }),
    ]);
    expect(typeof rows[0].seq).toBe('string');
    expect(BigInt(rows[1].seq)).toBeGreaterThan(BigInt(rows[0].seq));
  });
});
rateLimitRepositoryContract('TypeORM', typeOrmPorts);
