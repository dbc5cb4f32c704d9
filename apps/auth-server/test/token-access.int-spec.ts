// Who may see what (issue 10): introspection answers only the token's own client and the resource servers of
// its audience; revocation answers the same for another client's token as for an unknown one; refresh tokens
// introspect for their own client.
import { ClientRepository, s256Challenge, UserRepository, type User } from '@tessera/oauth-core';
import { aUser } from '@tessera/testing';
import { randomBytes } from 'node:crypto';
import { basicAuth, INITIAL_ACCESS_TOKEN, postForm, registerClient, startAuthServer, type RunningAuthServer } from './auth-server.harness.js';

const API = 'https://api.example';
const OTHER_API = 'https://other.example';
const REDIRECT_URI = 'https://app.example/cb';
type Credentials = { client_id: string; client_secret: string };

let server: RunningAuthServer;
beforeAll(async () => {
  server = await startAuthServer();
});
afterAll(() => server.stop());

const as = (c: Credentials) => ({ authorization: basicAuth(c.client_id, c.client_secret) });
const introspect = async (by: Credentials, body: Record<string, string>) => {
  const res = await postForm(`${server.url}/oauth2/introspect`, body, as(by));
  expect(res.status).toBe(200);
  return res.json();
};
const accessToken = async (client: Credentials, body: Record<string, string> = {}) => {
  const res = await postForm(`${server.url}/oauth2/token`, { grant_type: 'client_credentials', ...body }, as(client));
  expect(res.status).toBe(200);
  return (await res.json()).access_token as string;
};

describe.each(['opaque', 'jwt'] as const)('introspection of %s access tokens', (format) => {
  let client: Credentials;
  let apiServer: Credentials;
  let otherServer: Credentials;
  let bystander: Credentials;
  beforeAll(async () => {
    client = await registerClient(server.url, { access_token_format: format, resources: [API, OTHER_API] });
    apiServer = await registerClient(server.url, { client_name: 'api', scope: '', resource_server_for: [API] });
    otherServer = await registerClient(server.url, { client_name: 'other api', scope: '', resource_server_for: [OTHER_API] });
    bystander = await registerClient(server.url, { client_name: 'another client' });
  });

  it('answers the resource server of the audience and the client itself, and {"active":false} to anyone else', async () => {
    const token = await accessToken(client, { scope: 'read', resource: API });
    const active = {
      active: true,
      scope: 'read',
      client_id: client.client_id,
      token_type: 'Bearer',
      sub: client.client_id,
      aud: API,
      iss: server.url,
      exp: expect.any(Number),
      iat: expect.any(Number),
      jti: expect.any(String),
    };
    expect(await introspect(apiServer, { token })).toEqual(active);
    expect(await introspect(client, { token })).toEqual(active);
    expect(await introspect(otherServer, { token })).toEqual({ active: false });
    expect(await introspect(bystander, { token })).toEqual({ active: false });
  });

  it('answers a resource server for any one of the audiences of a token for several', async () => {
    const token = await accessToken(client); // with no resource named: the client's resources, both
    expect(await introspect(otherServer, { token })).toMatchObject({ active: true, aud: [API, OTHER_API] });
    expect(await introspect(apiServer, { token })).toMatchObject({ active: true });
    expect(await introspect(bystander, { token })).toEqual({ active: false });
  });
});

describe('the resource-server role at registration', () => {
  it('is registered with resource_server_for, and echoed back', async () => {
    const rs = await registerClient(server.url, { client_name: 'api', scope: '', resource_server_for: [API] });
    expect(rs).toMatchObject({ resource_server_for: [API], token_endpoint_auth_method: 'client_secret_basic' });
    expect(await registerClient(server.url)).not.toHaveProperty('resource_server_for');
  });

  it.each([
    [{ resource_server_for: ['not a uri'] }, 'resource_server_for: "not a uri" is not an absolute URI without a fragment'],
    [{ resource_server_for: 'https://api.example' }, 'resource_server_for must be an array of non-empty strings'],
    [
      { resource_server_for: [API], token_endpoint_auth_method: 'none', grant_types: ['authorization_code'], redirect_uris: [REDIRECT_URI] },
      'resource_server_for needs a confidential client (a resource server authenticates with its secret)',
    ],
  ])('refuses %j', async (metadata, description) => {
    const res = await fetch(`${server.url}/oauth2/register`, {
      method: 'POST',
      headers: { authorization: `Bearer ${INITIAL_ACCESS_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ client_name: 'x', ...metadata }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: 'invalid_client_metadata', error_description: description });
  });
});

describe.each(['opaque', 'jwt'] as const)("revoking another client's %s access token", (format) => {
  it('answers 200 with an empty body, as for an unknown token, and revokes nothing', async () => {
    const owner = await registerClient(server.url, { access_token_format: format });
    const other = await registerClient(server.url);
    const token = await accessToken(owner);
    const unknown = await postForm(`${server.url}/oauth2/revoke`, { token: 'tsr_at_' + 'A'.repeat(43) }, as(other));
    const foreign = await postForm(`${server.url}/oauth2/revoke`, { token }, as(other));
    expect([foreign.status, foreign.headers.get('cache-control'), await foreign.text()]).toEqual([
      unknown.status,
      unknown.headers.get('cache-control'),
      await unknown.text(),
    ]);
    expect(foreign.status).toBe(200);
    expect(await introspect(owner, { token })).toMatchObject({ active: true });
  });
});

describe('refresh tokens', () => {
  let web: Credentials;
  let other: Credentials;
  let apiServer: Credentials;
  beforeAll(async () => {
    web = await registerClient(server.url, {
      client_name: 'web app',
      grant_types: ['authorization_code', 'refresh_token'],
      redirect_uris: [REDIRECT_URI],
      resources: [API],
    });
    other = await registerClient(server.url);
    apiServer = await registerClient(server.url, { client_name: 'api', scope: '', resource_server_for: [API] });
  });

  async function tokensFor(user: User): Promise<{ access_token: string; refresh_token: string }> {
    const client = (await server.app.get(ClientRepository).findById(web.client_id))!;
    const codeVerifier = randomBytes(32).toString('base64url');
    const code = await server.services.authorizationCodeIssuer.issue({
      client,
      redirectUri: REDIRECT_URI,
      codeChallenge: s256Challenge(codeVerifier),
      codeChallengeMethod: 'S256',
      scope: ['read'],
      resources: [API],
      subject: user.id,
    });
    const res = await postForm(
      `${server.url}/oauth2/token`,
      { grant_type: 'authorization_code', code, code_verifier: codeVerifier, redirect_uri: REDIRECT_URI },
      as(web),
    );
    expect(res.status).toBe(200);
    return res.json();
  }
  async function aUserWithTokens() {
    const user = aUser();
    await server.app.get(UserRepository).create(user);
    return { user, tokens: await tokensFor(user) };
  }

  it.each([undefined, 'refresh_token', 'access_token', 'something_else'])(
    'introspect as active for their own client, with token_type_hint %s',
    async (hint) => {
      const { user, tokens } = await aUserWithTokens();
      const body = await introspect(web, { token: tokens.refresh_token, ...(hint ? { token_type_hint: hint } : {}) });
      expect(body).toEqual({
        active: true,
        scope: 'read',
        client_id: web.client_id,
        exp: expect.any(Number),
        iat: expect.any(Number),
        sub: user.id,
        aud: API,
      });
      expect(body.exp - body.iat).toBe(server.config.tokens.refreshTokenTtl);
      // A wrong hint still finds the access token too.
      expect(await introspect(web, { token: tokens.access_token, token_type_hint: 'refresh_token' })).toMatchObject({ active: true });
    },
  );

  it('are inactive for any other client, a resource server of their audience included', async () => {
    const { tokens } = await aUserWithTokens();
    expect(await introspect(other, { token: tokens.refresh_token })).toEqual({ active: false });
    expect(await introspect(apiServer, { token: tokens.refresh_token })).toEqual({ active: false });
  });

  it('are inactive once rotated, revoked, or when their user is disabled', async () => {
    const rotated = await aUserWithTokens();
    const refreshed = await postForm(`${server.url}/oauth2/token`, { grant_type: 'refresh_token', refresh_token: rotated.tokens.refresh_token }, as(web));
    expect(refreshed.status).toBe(200);
    expect(await introspect(web, { token: rotated.tokens.refresh_token })).toEqual({ active: false });
    expect(await introspect(web, { token: (await refreshed.json()).refresh_token })).toMatchObject({ active: true });

    const revoked = await aUserWithTokens();
    expect((await postForm(`${server.url}/oauth2/revoke`, { token: revoked.tokens.refresh_token }, as(web))).status).toBe(200);
    expect(await introspect(web, { token: revoked.tokens.refresh_token })).toEqual({ active: false });

    const disabled = await aUserWithTokens();
    await server.app.get(UserRepository).disable(disabled.user.id, new Date());
    expect(await introspect(web, { token: disabled.tokens.refresh_token })).toEqual({ active: false });
  });

  it("are not revoked by another client: 200, as for an unknown token, and the grant lives on", async () => {
    const { tokens } = await aUserWithTokens();
    const res = await postForm(`${server.url}/oauth2/revoke`, { token: tokens.refresh_token }, as(other));
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('');
    expect(await introspect(web, { token: tokens.refresh_token })).toMatchObject({ active: true });
    expect(await introspect(apiServer, { token: tokens.access_token })).toMatchObject({ active: true });
  });
});
