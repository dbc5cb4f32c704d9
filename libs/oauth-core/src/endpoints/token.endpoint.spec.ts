import { aClient, InMemoryAccessTokenRepository, InMemoryClientRepository, InMemoryRevocationRepository } from '@tessera/testing';
import { ClientSecretHasher, CryptoRandomSource, OpaqueAccessTokenStrategy } from '@tessera/tokens';
import { ClientAuthenticator } from '../client-auth/client-authenticator.js';
import { FormParams } from '../forms/form-params.js';
import { parseForm } from '../forms/form-parser.js';
import { ClientCredentialsGrant } from '../grants/client-credentials.grant.js';
import { FixedClock } from '../ports/clock.port.js';
import { AccessTokenInspector } from '../tokens/access-token.inspector.js';
import { AccessTokenIssuer } from '../tokens/access-token.issuer.js';
import { IntrospectionEndpoint } from './introspection.endpoint.js';
import { RevocationEndpoint } from './revocation.endpoint.js';
import { TokenEndpoint } from './token.endpoint.js';

const ISSUER = 'https://as.example';
const form = (body: string) => FormParams.from(parseForm(body));
const basic = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

function setup() {
  const clock = new FixedClock();
  const random = new CryptoRandomSource();
  const hasher = new ClientSecretHasher();
  const revocations = new InMemoryRevocationRepository();
  const clients = new InMemoryClientRepository(revocations);
  const tokens = new InMemoryAccessTokenRepository(revocations);
  const opaque = new OpaqueAccessTokenStrategy(tokens, random, clock);
  const issuer = new AccessTokenIssuer([opaque], random, clock, { issuer: ISSUER, defaultTtl: 3600 });
  const auth = new ClientAuthenticator(clients, hasher);
  const inspector = new AccessTokenInspector([opaque], revocations, clients);
  const endpoint = new TokenEndpoint([new ClientCredentialsGrant(issuer, ISSUER)], auth);
  const introspection = new IntrospectionEndpoint(auth, inspector);
  const revocation = new RevocationEndpoint(auth, inspector, clock);
  const add = async (secret: string, overrides = {}) => {
    const client = aClient({ secretHash: hasher.hash(secret), ...overrides });
    await clients.create(client);
    return client;
  };
  return { clock, clients, endpoint, introspection, revocation, add, revocations };
}

describe('TokenEndpoint with client_credentials', () => {
  it('issues an opaque token for the allowed scope, authenticated by Basic', async () => {
    const { endpoint, add } = setup();
    const c = await add('s3cret', { scopes: ['read', 'write'] });
    const result = await endpoint.handle(basic(c.clientId, 's3cret'), form('grant_type=client_credentials&scope=read'));
    expect(result).toEqual({ accessToken: expect.stringMatching(/^tsr_at_[\w-]{43}$/), tokenType: 'Bearer', expiresIn: 3600, scope: ['read'] });
  });

  it('decodes form-encoded Basic credentials (RFC 6749 §2.3.1)', async () => {
    const { endpoint, add } = setup();
    const c = await add('a:b+c%d é', {});
    await expect(endpoint.handle(basic(c.clientId, 'a:b+c%d é'), form('grant_type=client_credentials'))).resolves.toBeDefined();
  });

  it('authenticates by form post when registered so, and refuses the other method', async () => {
    const { endpoint, add } = setup();
    const c = await add('pw', { tokenEndpointAuthMethod: 'client_secret_post' });
    await expect(endpoint.handle(undefined, form(`grant_type=client_credentials&client_id=${c.clientId}&client_secret=pw`))).resolves.toBeDefined();
    await expect(endpoint.handle(basic(c.clientId, 'pw'), form('grant_type=client_credentials'))).rejects.toMatchObject({ code: 'invalid_client', authScheme: 'Basic' });
  });

  it.each<[string, (id: string) => string | undefined]>([
    ['a wrong secret', (id) => basic(id, 'nope')],
    ['an unknown client', () => basic('ghost', 'pw')],
    ['a malformed Basic header', () => 'Basic !!!'],
    ['another scheme', () => 'Bearer abc'],
    ['no credentials', () => undefined],
  ])('refuses %s with invalid_client', async (_, header) => {
    const { endpoint, add } = setup();
    const c = await add('pw');
    await expect(endpoint.handle(header(c.clientId), form('grant_type=client_credentials'))).rejects.toMatchObject({ code: 'invalid_client', status: 401 });
  });

  it('refuses two authentication methods at once', async () => {
    const { endpoint, add } = setup();
    const c = await add('pw');
    await expect(endpoint.handle(basic(c.clientId, 'pw'), form(`grant_type=client_credentials&client_secret=pw`))).rejects.toMatchObject({ code: 'invalid_request' });
  });

  it('refuses a disabled client', async () => {
    const { endpoint, add, clock } = setup();
    const c = await add('pw', { disabledAt: clock.now() });
    await expect(endpoint.handle(basic(c.clientId, 'pw'), form('grant_type=client_credentials'))).rejects.toMatchObject({ code: 'invalid_client' });
  });

  it.each([
    ['grant_type=password', 'unsupported_grant_type'],
    ['scope=read', 'invalid_request'],
    ['grant_type=client_credentials&scope=admin', 'invalid_scope'],
    ['grant_type=client_credentials&scope=read&scope=write', 'invalid_request'],
    ['grant_type=client_credentials&resource=relative', 'invalid_target'],
  ])('answers %s with %s', async (body, code) => {
    const { endpoint, add } = setup();
    const c = await add('pw');
    await expect(endpoint.handle(basic(c.clientId, 'pw'), form(body))).rejects.toMatchObject({ code });
  });

  it('refuses a grant the client is not registered for', async () => {
    const { endpoint, add } = setup();
    const c = await add('pw', { grantTypes: ['authorization_code'] });
    await expect(endpoint.handle(basic(c.clientId, 'pw'), form('grant_type=client_credentials'))).rejects.toMatchObject({ code: 'unauthorized_client' });
  });

  it('is introspected active, then inactive once revoked or expired', async () => {
    const { endpoint, introspection, revocation, add, clock } = setup();
    const c = await add('pw', { resources: ['https://api.example'] });
    const auth = basic(c.clientId, 'pw');
    const { accessToken } = await endpoint.handle(auth, form('grant_type=client_credentials&scope=read'));
    expect(await introspection.handle(auth, form(`token=${accessToken}`))).toEqual({
      active: true,
      scope: 'read',
      client_id: c.clientId,
      token_type: 'Bearer',
      exp: clock.nowSeconds() + 3600,
      iat: clock.nowSeconds(),
      sub: c.clientId,
      aud: 'https://api.example',
      iss: ISSUER,
      jti: expect.any(String),
    });
    await revocation.handle(auth, form(`token=${accessToken}&token_type_hint=access_token`));
    expect(await introspection.handle(auth, form(`token=${accessToken}`))).toEqual({ active: false });
    const second = await endpoint.handle(auth, form('grant_type=client_credentials'));
    clock.advance(3600);
    expect(await introspection.handle(auth, form(`token=${second.accessToken}`))).toEqual({ active: false });
  });

  it("lets a client revoke only its own tokens; another client's token is answered as an unknown one, and left alone", async () => {
    const { endpoint, revocation, introspection, add } = setup();
    const a = await add('pa');
    const b = await add('pb');
    const { accessToken } = await endpoint.handle(basic(a.clientId, 'pa'), form('grant_type=client_credentials'));
    await expect(revocation.handle(basic(b.clientId, 'pb'), form(`token=${accessToken}`))).resolves.toBeUndefined();
    await expect(revocation.handle(basic(b.clientId, 'pb'), form('token=garbage'))).resolves.toBeUndefined();
    expect(await introspection.handle(basic(a.clientId, 'pa'), form(`token=${accessToken}`))).toMatchObject({ active: true });
  });

  it('makes every token of a disabled client inactive', async () => {
    const { endpoint, introspection, add, clients, clock } = setup();
    const a = await add('pa');
    const rs = await add('prs');
    const { accessToken } = await endpoint.handle(basic(a.clientId, 'pa'), form('grant_type=client_credentials'));
    await clients.update(a.clientId, { disabledAt: clock.now() }, clock.now());
    expect(await introspection.handle(basic(rs.clientId, 'prs'), form(`token=${accessToken}`))).toEqual({ active: false });
  });
});
