// Shared by the authorization_code and refresh_token grant specs: the whole token side on in-memory ports.
import {
  aClient,
  InMemoryAccessTokenRepository,
  InMemoryAuthorizationCodeRepository,
  InMemoryClientRepository,
  InMemoryRefreshTokenRepository,
  InMemoryRevocationRepository,
  InMemoryUserRepository,
} from '@tessera/testing';
import { randomUUID } from 'node:crypto';
import { ClientSecretHasher, CryptoRandomSource, OpaqueAccessTokenStrategy } from '@tessera/tokens';
import { ClientAuthenticator } from '../client-auth/client-authenticator.js';
import type { Client } from '../domain/client.js';
import type { User } from '../domain/user.js';
import { IntrospectionEndpoint } from '../endpoints/introspection.endpoint.js';
import { RevocationEndpoint } from '../endpoints/revocation.endpoint.js';
import { TokenEndpoint } from '../endpoints/token.endpoint.js';
import { FormParams } from '../forms/form-params.js';
import { FixedClock } from '../ports/clock.port.js';
import { AccessTokenInspector } from '../tokens/access-token.inspector.js';
import { AccessTokenIssuer } from '../tokens/access-token.issuer.js';
import { AuthorizationCodeIssuer, type AuthorizationCodeRequest } from '../tokens/authorization-code.issuer.js';
import { RefreshTokenIssuer } from '../tokens/refresh-token.issuer.js';
import { AuthorizationCodeGrant } from './authorization-code.grant.js';
import { ClientCredentialsGrant } from './client-credentials.grant.js';
import { s256Challenge } from './pkce.js';
import { RefreshTokenGrant } from './refresh-token.grant.js';

export const ISSUER = 'https://as.example';
export const REDIRECT_URI = 'https://app.example/cb';
export const API = 'https://api.example';
export const REFRESH_TOKEN_TTL = 30 * 86400;
export const REFRESH_TOKEN_MAX_LIFETIME = 90 * 86400;

export const form = (values: Record<string, string | undefined>) =>
  FormParams.from(Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)));

/** A verifier of 43 unreserved characters. */
export const aVerifier = () => `${randomUUID()}-${randomUUID()}`.slice(0, 64);

export function userGrantsSetup() {
  const clock = new FixedClock();
  const random = new CryptoRandomSource();
  const hasher = new ClientSecretHasher();
  const revocations = new InMemoryRevocationRepository();
  const refreshTokens = new InMemoryRefreshTokenRepository(revocations);
  const codes = new InMemoryAuthorizationCodeRepository();
  const clients = new InMemoryClientRepository(revocations, refreshTokens, codes);
  const accessTokenRepo = new InMemoryAccessTokenRepository(revocations);
  const users = new InMemoryUserRepository(revocations, refreshTokens);
  const opaque = new OpaqueAccessTokenStrategy(accessTokenRepo, random, clock);
  const issuer = new AccessTokenIssuer([opaque], random, clock, { issuer: ISSUER, defaultTtl: 3600 });
  const refreshIssuer = new RefreshTokenIssuer(refreshTokens, random, clock, REFRESH_TOKEN_TTL, REFRESH_TOKEN_MAX_LIFETIME);
  const codeIssuer = new AuthorizationCodeIssuer(codes, random, clock, 60);
  const auth = new ClientAuthenticator(clients, hasher);
  const inspector = new AccessTokenInspector([opaque], revocations, clients);
  const endpoint = new TokenEndpoint(
    [
      new ClientCredentialsGrant(issuer, ISSUER),
      new AuthorizationCodeGrant(codes, users, refreshTokens, issuer, refreshIssuer, clock),
      new RefreshTokenGrant(refreshTokens, users, issuer, refreshIssuer, clock),
    ],
    auth,
  );
  const introspection = new IntrospectionEndpoint(auth, inspector);
  const revocation = new RevocationEndpoint(auth, inspector, clock, refreshTokens);

  /** A confidential web client (client_secret_post, so requests are forms only) or a public one. */
  const addClient = async (kind: 'confidential' | 'public' = 'confidential', overrides: Partial<Client> = {}) => {
    const secret = `secret-${randomUUID()}`;
    const client = aClient({
      grantTypes: ['authorization_code', 'refresh_token'],
      redirectUris: [REDIRECT_URI],
      scopes: ['read', 'write'],
      resources: [API],
      ...(kind === 'public' ? { tokenEndpointAuthMethod: 'none', secretHash: null } : { tokenEndpointAuthMethod: 'client_secret_post', secretHash: hasher.hash(secret) }),
      ...overrides,
    });
    await clients.create(client);
    const credentials: Record<string, string> = kind === 'public' ? { client_id: client.clientId } : { client_id: client.clientId, client_secret: secret };
    return { client, credentials };
  };

  const addUser = async (username = `user-${randomUUID().slice(0, 8)}`): Promise<User> => {
    const user: User = { id: randomUUID(), username, passwordHash: 'unused', disabledAt: null, createdAt: clock.now() };
    await users.create(user);
    return user;
  };

  /** What the authorization endpoint would do after sign-in and consent. */
  const issueCode = async (client: Client, user: User, overrides: Partial<AuthorizationCodeRequest> = {}) => {
    const verifier = aVerifier();
    const code = await codeIssuer.issue({
      client,
      redirectUri: REDIRECT_URI,
      codeChallenge: s256Challenge(verifier),
      codeChallengeMethod: 'S256',
      scope: ['read', 'write'],
      resources: [API],
      subject: user.id,
      ...overrides,
    });
    return { code, verifier };
  };

  /** A confidential resource server (for API) that introspects. */
  const introspect = async (token: string) => {
    const rs = await addClient('confidential', { grantTypes: ['client_credentials'], resourceServerFor: [API] });
    return introspection.handle(undefined, form({ ...rs.credentials, token }));
  };

  return { clock, clients, users, codes, refreshTokens, accessTokenRepo, revocations, codeIssuer, endpoint, introspection, revocation, addClient, addUser, issueCode, introspect };
}
