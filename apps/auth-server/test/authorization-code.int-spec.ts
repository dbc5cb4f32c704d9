// The authorization_code (PKCE) and refresh_token grants at the token endpoint, over real HTTP on real PostgreSQL.
// The code comes from the running app's AuthorizationCodeIssuer, as the authorization endpoint will hand it out.
import { ClientRepository, s256Challenge, UserRepository, type User } from '@tessera/oauth-core';
import { aUser, ManualClock } from '@tessera/testing';
import { randomBytes } from 'node:crypto';
import { decodeJwt } from 'jose';
import { basicAuth, postForm, registerClient, startAuthServer, type RunningAuthServer } from './auth-server.harness.js';

const REDIRECT_URI = 'https://app.example/cb';
const API = 'https://api.example';
let server: RunningAuthServer;
let rs: { client_id: string; client_secret: string };
/** The server's clock: the real time until a test moves it on. */
const clock = new ManualClock();

beforeAll(async () => {
  server = await startAuthServer({ clock });
  rs = await registerClient(server.url, { client_name: 'resource server', scope: '', resource_server_for: [API] });
});
afterAll(() => server.stop());

const verifier = () => randomBytes(32).toString('base64url');
const token = (body: Record<string, string>, headers: Record<string, string> = {}) => postForm(`${server.url}/oauth2/token`, body, headers);
const introspect = async (t: string) =>
  (await postForm(`${server.url}/oauth2/introspect`, { token: t }, { authorization: basicAuth(rs.client_id, rs.client_secret) })).json();

async function aSignedInUser(): Promise<User> {
  const user = aUser();
  await server.app.get(UserRepository).create(user);
  return user;
}

/** A code for `user`, as the authorization endpoint would issue it after sign-in and consent. */
async function issueCode(clientId: string, user: User, scope = ['read', 'write']) {
  const client = (await server.app.get(ClientRepository).findById(clientId))!;
  const codeVerifier = verifier();
  const code = await server.services.authorizationCodeIssuer.issue({
    client,
    redirectUri: REDIRECT_URI,
    codeChallenge: s256Challenge(codeVerifier),
    codeChallengeMethod: 'S256',
    scope,
    resources: [API],
    subject: user.id,
  });
  return { code, codeVerifier };
}

describe.each(['opaque', 'jwt'] as const)('authorization_code and refresh_token with %s access tokens', (format) => {
  let web: { client_id: string; client_secret: string };
  let spa: { client_id: string };
  const webAuth = () => ({ authorization: basicAuth(web.client_id, web.client_secret) });
  beforeAll(async () => {
    const code = { grant_types: ['authorization_code', 'refresh_token'], redirect_uris: [REDIRECT_URI], access_token_format: format, resources: [API] };
    web = await registerClient(server.url, { client_name: 'web app', ...code });
    spa = await registerClient(server.url, { client_name: 'spa', token_endpoint_auth_method: 'none', ...code });
  });

  it('registers a public client without a secret', () => {
    expect(spa).not.toHaveProperty('client_secret');
    expect(spa).toMatchObject({ token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'], redirect_uris: [REDIRECT_URI] });
  });

  it.each(['web', 'spa'] as const)('redeems a code for the %s client, then rotates its refresh token', async (kind) => {
    const user = await aSignedInUser();
    const clientId = kind === 'web' ? web.client_id : spa.client_id;
    const auth = kind === 'web' ? webAuth() : {};
    const id: Record<string, string> = kind === 'web' ? {} : { client_id: spa.client_id };
    const { code, codeVerifier } = await issueCode(clientId, user, ['read']);
    expect(code).toMatch(/^tsr_ac_[A-Za-z0-9_-]{43}$/);

    const res = await token({ grant_type: 'authorization_code', code, code_verifier: codeVerifier, redirect_uri: REDIRECT_URI, ...id }, auth);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = await res.json();
    expect(body).toEqual({
      access_token: expect.any(String),
      token_type: 'Bearer',
      expires_in: 3600,
      scope: 'read',
      refresh_token: expect.stringMatching(/^tsr_rt_[A-Za-z0-9_-]{43}$/),
    });
    if (format === 'jwt') expect(decodeJwt(body.access_token)).toMatchObject({ sub: user.id, client_id: clientId, gid: expect.any(String), aud: API });
    expect(await introspect(body.access_token)).toMatchObject({ active: true, sub: user.id, client_id: clientId, scope: 'read', aud: API });

    const refreshed = await token({ grant_type: 'refresh_token', refresh_token: body.refresh_token, ...id }, auth);
    expect(refreshed.status).toBe(200);
    const next = await refreshed.json();
    expect(next).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: 3600, scope: 'read', refresh_token: expect.any(String) });
    expect(next.refresh_token).not.toBe(body.refresh_token);
    expect(await introspect(next.access_token)).toMatchObject({ active: true, sub: user.id });

    // The rotated token used again: refused, and the whole family with its access tokens revoked.
    const reuse = await token({ grant_type: 'refresh_token', refresh_token: body.refresh_token, ...id }, auth);
    expect(reuse.status).toBe(400);
    expect(await reuse.json()).toEqual({ error: 'invalid_grant', error_description: 'refresh token already used; its grant is revoked' });
    expect(await introspect(body.access_token)).toEqual({ active: false });
    expect(await introspect(next.access_token)).toEqual({ active: false });
    expect((await token({ grant_type: 'refresh_token', refresh_token: next.refresh_token, ...id }, auth)).status).toBe(400);
  });

  it('refuses a code used twice, and revokes what it gave', async () => {
    const { code, codeVerifier } = await issueCode(web.client_id, await aSignedInUser());
    const request = { grant_type: 'authorization_code', code, code_verifier: codeVerifier, redirect_uri: REDIRECT_URI };
    const first = await (await token(request, webAuth())).json();
    const second = await token(request, webAuth());
    expect(second.status).toBe(400);
    expect(second.headers.get('cache-control')).toBe('no-store');
    expect(await second.json()).toEqual({ error: 'invalid_grant', error_description: 'authorization code already used; the tokens issued from it are revoked' });
    expect(await introspect(first.access_token)).toEqual({ active: false });
    const refresh = await token({ grant_type: 'refresh_token', refresh_token: first.refresh_token }, webAuth());
    expect(await refresh.json()).toMatchObject({ error: 'invalid_grant' });
  });

  it.each<[string, (c: { code: string; codeVerifier: string }) => Record<string, string>, string]>([
    ['a wrong code_verifier', (c) => ({ code: c.code, code_verifier: verifier(), redirect_uri: REDIRECT_URI }), 'code_verifier does not match the code_challenge'],
    ['no code_verifier', (c) => ({ code: c.code, redirect_uri: REDIRECT_URI }), 'code_verifier is required (PKCE)'],
    ['the plain method (verifier = challenge)', (c) => ({ code: c.code, code_verifier: s256Challenge(c.codeVerifier), redirect_uri: REDIRECT_URI }), 'code_verifier does not match the code_challenge'],
    ['another redirect_uri', (c) => ({ ...c, code_verifier: c.codeVerifier, redirect_uri: 'https://app.example/other' }), 'redirect_uri does not match the authorization request'],
  ])('refuses %s with invalid_grant', async (_, body, description) => {
    const c = await issueCode(web.client_id, await aSignedInUser());
    const { codeVerifier: _v, ...rest } = body(c) as Record<string, string> & { codeVerifier?: string };
    const res = await token({ grant_type: 'authorization_code', ...rest }, webAuth());
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: 'invalid_grant', error_description: description });
  });

  it('refuses an expired code', async () => {
    // Issued by the endpoint, then redeemed one second after its lifetime (TESSERA_AUTHORIZATION_CODE_TTL) on the server's clock.
    const { code, codeVerifier } = await issueCode(web.client_id, await aSignedInUser(), ['read']);
    clock.advance(server.config.tokens.authorizationCodeTtl + 1);
    const res = await token({ grant_type: 'authorization_code', code, code_verifier: codeVerifier, redirect_uri: REDIRECT_URI }, webAuth());
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: 'invalid_grant', error_description: 'authorization code expired' });
  });

  it('refuses a code issued to another client, without spending it', async () => {
    const { code, codeVerifier } = await issueCode(spa.client_id, await aSignedInUser());
    const res = await token({ grant_type: 'authorization_code', code, code_verifier: codeVerifier, redirect_uri: REDIRECT_URI }, webAuth());
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: 'invalid_grant', error_description: 'invalid authorization code' });
    const own = await token({ grant_type: 'authorization_code', code, code_verifier: codeVerifier, redirect_uri: REDIRECT_URI, client_id: spa.client_id });
    expect(own.status).toBe(200);
  });

  it('refuses a refresh token presented by another client, which keeps working for its own', async () => {
    const { code, codeVerifier } = await issueCode(web.client_id, await aSignedInUser());
    const tokens = await (await token({ grant_type: 'authorization_code', code, code_verifier: codeVerifier, redirect_uri: REDIRECT_URI }, webAuth())).json();
    const stolen = await token({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: spa.client_id });
    expect(stolen.status).toBe(400);
    expect(await stolen.json()).toEqual({ error: 'invalid_grant', error_description: 'invalid refresh token' });
    expect((await token({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token }, webAuth())).status).toBe(200);
  });

  it('narrows the scope on refresh, and refuses a wider one', async () => {
    const { code, codeVerifier } = await issueCode(web.client_id, await aSignedInUser());
    const tokens = await (await token({ grant_type: 'authorization_code', code, code_verifier: codeVerifier, redirect_uri: REDIRECT_URI }, webAuth())).json();
    expect(tokens.scope).toBe('read write');
    const narrow = await token({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token, scope: 'read' }, webAuth());
    const body = await narrow.json();
    expect(body.scope).toBe('read');
    const wide = await token({ grant_type: 'refresh_token', refresh_token: body.refresh_token, scope: 'read admin' }, webAuth());
    expect(wide.status).toBe(400);
    expect((await wide.json()).error).toBe('invalid_scope');
  });

  it('revokes a refresh token and its family (RFC 7009), with the access tokens of its grant', async () => {
    const { code, codeVerifier } = await issueCode(web.client_id, await aSignedInUser());
    const tokens = await (await token({ grant_type: 'authorization_code', code, code_verifier: codeVerifier, redirect_uri: REDIRECT_URI }, webAuth())).json();
    const res = await postForm(`${server.url}/oauth2/revoke`, { token: tokens.refresh_token, token_type_hint: 'refresh_token' }, webAuth());
    expect(res.status).toBe(200);
    expect(await introspect(tokens.access_token)).toEqual({ active: false });
    expect((await token({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token }, webAuth())).status).toBe(400);
  });

  it('stops every grant of a disabled user', async () => {
    const user = await aSignedInUser();
    const { code, codeVerifier } = await issueCode(web.client_id, user);
    const tokens = await (await token({ grant_type: 'authorization_code', code, code_verifier: codeVerifier, redirect_uri: REDIRECT_URI }, webAuth())).json();
    const pending = await issueCode(web.client_id, user);
    await server.app.get(UserRepository).disable(user.id, clock.now()); // on the server's clock, which a test may have moved on
    expect(await introspect(tokens.access_token)).toEqual({ active: false });
    const refresh = await token({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token }, webAuth());
    expect(await refresh.json()).toEqual({ error: 'invalid_grant', error_description: 'invalid refresh token' });
    const late = await token({ grant_type: 'authorization_code', code: pending.code, code_verifier: pending.codeVerifier, redirect_uri: REDIRECT_URI }, webAuth());
    expect(await late.json()).toEqual({ error: 'invalid_grant', error_description: 'the user is not allowed to sign in' });
  });

  it('refuses a public client at introspection', async () => {
    const res = await postForm(`${server.url}/oauth2/introspect`, { token: 'x', client_id: spa.client_id });
    expect(res.status).toBe(401);
    expect((await res.json()).error).toBe('invalid_client');
  });
});

describe('with only client_credentials enabled', () => {
  let cc: RunningAuthServer;
  beforeAll(async () => {
    cc = await startAuthServer({ env: { TESSERA_GRANTS: 'client_credentials' } });
  });
  afterAll(() => cc.stop());

  it('does not know the code and refresh grants, nor advertise PKCE or an authorization endpoint', async () => {
    const client = await registerClient(cc.url);
    const res = await postForm(`${cc.url}/oauth2/token`, { grant_type: 'authorization_code', code: 'x' }, { authorization: basicAuth(client.client_id, client.client_secret) });
    expect(await res.json()).toEqual({ error: 'unsupported_grant_type', error_description: 'grant_type "authorization_code" is not supported' });
    const metadata = await (await fetch(`${cc.url}/.well-known/oauth-authorization-server`)).json();
    expect(metadata.grant_types_supported).toEqual(['client_credentials']);
    expect(metadata).not.toHaveProperty('code_challenge_methods_supported');
    expect(metadata).not.toHaveProperty('authorization_endpoint');
    expect(metadata.response_types_supported).toEqual([]);
    for (const path of ['/oauth2/authorize?client_id=x', '/login']) expect((await fetch(`${cc.url}${path}`)).status).toBe(404);
    expect(metadata.token_endpoint_auth_methods_supported).toEqual(['client_secret_basic', 'client_secret_post']);
    const reg = await fetch(`${cc.url}/oauth2/register`, {
      method: 'POST',
      headers: { authorization: `Bearer test-initial-access-token-0123456789`, 'content-type': 'application/json' },
      body: JSON.stringify({ grant_types: ['authorization_code'], redirect_uris: [REDIRECT_URI] }),
    });
    expect(await reg.json()).toEqual({ error: 'invalid_client_metadata', error_description: 'grant_types: "authorization_code" is not supported' });
  });
});
