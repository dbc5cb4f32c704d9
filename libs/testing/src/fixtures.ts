import type { AccessTokenClaims, Client } from '@tessera/oauth-core';

let seq = 0;

export function aClient(overrides: Partial<Client> = {}): Client {
  seq += 1;
  const now = new Date('2026-01-01T00:00:00Z');
  return {
    clientId: `client-${seq}`,
    secretHash: null,
    clientName: `Client ${seq}`,
    grantTypes: ['client_credentials'],
    scopes: ['read', 'write'],
    tokenEndpointAuthMethod: 'client_secret_basic',
    redirectUris: [],
    accessTokenFormat: 'opaque',
    accessTokenTtl: null,
    resources: [],
    resourceServerFor: [],
    revocationFeedKey: null,
    registrationAccessTokenHash: null,
    disabledAt: null,
    deletedAt: null,
    createdAt: now,
    updatedAt: now,
    ...overrides,
  };
}

export function someClaims(overrides: Partial<AccessTokenClaims> = {}): AccessTokenClaims {
  seq += 1;
  const iat = Math.floor(new Date('2026-01-01T00:00:00Z').getTime() / 1000);
  return {
    jti: `jti-${seq}`,
    iss: 'http://localhost:3000',
    sub: 'client-1',
    clientId: 'client-1',
    aud: [],
    scope: ['read'],
    iat,
    exp: iat + 3600,
    grantId: null,
    format: 'opaque',
    ...overrides,
  };
}
