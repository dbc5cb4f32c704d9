// The authorization code flow as a client and a person go through it, for both token formats, as a
// confidential web client and a single-page app (public client): oauth4webapi builds the request from
// discovery (PKCE S256, state, resource), a cookie-keeping user agent signs in and consents on the
// server's own pages, oauth4webapi checks the redirect back (state, RFC 9207 iss) and redeems the
// code, then refreshes with rotation, introspects and revokes. The pages' bad input (CSRF, throttling,
// errors shown or redirected) is in apps/auth-server/test/authorize.int-spec.ts.
import type { UserDirectory } from '@tessera/oauth-core';
import * as oauth from 'oauth4webapi';
import { registerClient, startAuthServer, type RunningAuthServer } from '../apps/auth-server/test/auth-server.harness.js';
import { authorizationRequest, discover, insecure, redeem } from './support/oauth-client.js';
import { buttons, expectCallback, expectPage, inputs, textOf, UserAgent, type Page } from './support/user-agent.js';
import { aPerson, userDirectory } from './support/users.js';

const API = 'https://api.example';
/** Never contacted: the user agent stops at the redirect to it. */
const REDIRECT_URI = 'http://127.0.0.1:8080/callback';
const SCOPE_DESCRIPTIONS = { 'notes:read': 'Read your notes', 'notes:write': 'Change & delete your notes' };
const INCORRECT = 'Incorrect username or password.';

let server: RunningAuthServer;
let as: oauth.AuthorizationServer;
let users: UserDirectory;
let rs: oauth.Client;
let rsAuth: oauth.ClientAuth;

beforeAll(async () => {
  server = await startAuthServer({ env: { TESSERA_SCOPE_DESCRIPTIONS: JSON.stringify(SCOPE_DESCRIPTIONS) } });
  as = await discover(server.url);
  users = userDirectory(server);
  const api = await registerClient(server.url, { client_name: 'api', scope: '', resource_server_for: [API] });
  rs = { client_id: api.client_id };
  rsAuth = oauth.ClientSecretBasic(api.client_secret);
});
afterAll(() => server.stop());

const introspect = async (token: string) => oauth.processIntrospectionResponse(as, rs, await oauth.introspectionRequest(as, rs, rsAuth, token, insecure));

/** A client that may use the code flow, through the registration endpoint. */
async function aCodeClient(metadata: Record<string, unknown> = {}) {
  return registerClient(server.url, {
    client_name: 'Notes web',
    grant_types: ['authorization_code', 'refresh_token'],
    redirect_uris: [REDIRECT_URI],
    scope: 'notes:read notes:write',
    resources: [API],
    ...metadata,
  });
}

function isLoginPage(page: Page): boolean {
  return page.url.pathname === '/login' && inputs(page.html).some((i) => i.name === 'password' && i.type === 'password');
}

function isConsentPage(page: Page): boolean {
  return buttons(page.html).some((b) => b.name === 'decision' && b.value === 'allow');
}

it('advertises the authorization endpoint, the code response type, S256 only and RFC 9207 iss', () => {
  expect(as.issuer).toBe(server.url);
  expect(as.authorization_endpoint).toBe(`${server.url}/oauth2/authorize`);
  expect(as.response_types_supported).toEqual(['code']);
  expect(as.authorization_response_iss_parameter_supported).toBe(true);
  expect(as.grant_types_supported).toEqual(['client_credentials', 'authorization_code', 'refresh_token']);
  expect(as.code_challenge_methods_supported).toEqual(['S256']);
  expect(as.token_endpoint_auth_methods_supported).toContain('none');
});

describe.each([
  ['opaque', 'web'],
  ['opaque', 'spa'],
  ['jwt', 'web'],
  ['jwt', 'spa'],
] as const)('%s access tokens, %s client, through oauth4webapi', (format, kind) => {
  let client: oauth.Client;
  let auth: oauth.ClientAuth;
  const clientName = `Notes ${kind} (${format})`;

  beforeAll(async () => {
    const c = await aCodeClient({ client_name: clientName, access_token_format: format, ...(kind === 'spa' ? { token_endpoint_auth_method: 'none' } : {}) });
    client = { client_id: c.client_id };
    auth = kind === 'spa' ? oauth.None() : oauth.ClientSecretBasic(c.client_secret);
  });

  const start = (scope = 'notes:read') => authorizationRequest(as, client, { redirectUri: REDIRECT_URI, scope, resources: [API] });
  const refresh = async (refreshToken: string, scope?: string) =>
    oauth.processRefreshTokenResponse(
      as,
      client,
      await oauth.refreshTokenGrantRequest(as, client, auth, refreshToken, { ...insecure, ...(scope ? { additionalParameters: { scope } } : {}) }),
    );

  /** A new person signs in and allows the request on the consent page; the client gets its redirect back. */
  async function authorizeAsNewPerson(options: { scope?: string; remember?: boolean } = {}) {
    const person = await aPerson(users);
    const ua = new UserAgent(server.url);
    const attempt = await start(options.scope);
    expect(isLoginPage(expectPage(await ua.open(attempt.url), 200))).toBe(true);
    expect(isConsentPage(expectPage(await ua.signIn(person.username, person.password), 200))).toBe(true);
    const callback = expectCallback(await ua.consent('allow', { remember: options.remember ?? false }));
    return { person, ua, attempt, callback };
  }

  it('completes the code flow with PKCE through sign-in and consent, then refreshes with rotation', async () => {
    const { person, attempt, callback } = await authorizeAsNewPerson();
    expect(callback.origin + callback.pathname).toBe(REDIRECT_URI);
    expect([...callback.searchParams.keys()].sort()).toEqual(['code', 'iss', 'state']);
    expect(callback.searchParams.get('iss')).toBe(as.issuer);

    const tokens = await redeem(as, client, auth, attempt, callback);
    expect(tokens).toMatchObject({ token_type: 'bearer', scope: 'notes:read', expires_in: 3600, refresh_token: expect.stringMatching(/^tsr_rt_/) });
    expect(await introspect(tokens.access_token)).toMatchObject({ active: true, sub: person.user.id, client_id: client.client_id, aud: API });
    if (format === 'jwt') {
      const request = new Request(API, { headers: { authorization: `Bearer ${tokens.access_token}` } });
      expect(await oauth.validateJwtAccessToken(as, request, API, insecure)).toMatchObject({ sub: person.user.id, client_id: client.client_id, scope: 'notes:read' });
    }

    const refreshed = await refresh(tokens.refresh_token!);
    expect(refreshed).toMatchObject({ token_type: 'bearer', scope: 'notes:read', refresh_token: expect.stringMatching(/^tsr_rt_/) });
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
    expect(await introspect(refreshed.access_token)).toMatchObject({ active: true, sub: person.user.id });

    // A stolen, already rotated refresh token: refused, and the family is revoked.
    const reuse = await refresh(tokens.refresh_token!).catch((e) => e);
    expect(reuse).toBeInstanceOf(oauth.ResponseBodyError);
    expect(reuse).toMatchObject({ error: 'invalid_grant', status: 400 });
    expect(await introspect(refreshed.access_token)).toEqual({ active: false });
    expect(await introspect(tokens.access_token)).toEqual({ active: false });
    expect(await refresh(refreshed.refresh_token!).catch((e) => e)).toMatchObject({ error: 'invalid_grant' });
  });

  it('reports a wrong verifier and a replayed code as invalid_grant', async () => {
    const { attempt, callback } = await authorizeAsNewPerson();
    const wrong = await redeem(as, client, auth, { ...attempt, codeVerifier: oauth.generateRandomCodeVerifier() }, callback).catch((e) => e);
    expect(wrong).toMatchObject({ error: 'invalid_grant', status: 400 });
    // The failed attempt spent the code: the right verifier now finds it used.
    const replay = await redeem(as, client, auth, attempt, callback).catch((e) => e);
    expect(replay).toMatchObject({ error: 'invalid_grant', error_description: expect.stringContaining('already used') });
  });

  it('revokes the tokens issued from a code that is used twice', async () => {
    const { attempt, callback } = await authorizeAsNewPerson();
    const tokens = await redeem(as, client, auth, attempt, callback);
    expect(await introspect(tokens.access_token)).toMatchObject({ active: true });

    const replay = await redeem(as, client, auth, attempt, callback).catch((e) => e);
    expect(replay).toMatchObject({ error: 'invalid_grant', error_description: expect.stringContaining('already used') });
    expect(await introspect(tokens.access_token)).toEqual({ active: false });
    expect(await refresh(tokens.refresh_token!).catch((e) => e)).toMatchObject({ error: 'invalid_grant' });
  });

  it('refreshes to a narrower scope, keeps the grant, and refuses a wider one', async () => {
    const { attempt, callback } = await authorizeAsNewPerson({ scope: 'notes:read notes:write' });
    const tokens = await redeem(as, client, auth, attempt, callback);
    expect(tokens.scope).toBe('notes:read notes:write');

    const narrower = await refresh(tokens.refresh_token!, 'notes:read');
    expect(narrower.scope).toBe('notes:read');
    expect(await introspect(narrower.access_token)).toMatchObject({ active: true, scope: 'notes:read' });
    // The rotated refresh token still carries the whole grant.
    const whole = await refresh(narrower.refresh_token!);
    expect(whole.scope).toBe('notes:read notes:write');

    const wider = await refresh(whole.refresh_token!, 'notes:read admin').catch((e) => e);
    expect(wider).toMatchObject({ error: 'invalid_scope', status: 400 });
  });

  it('revokes the whole grant when the client revokes its refresh token', async () => {
    const { attempt, callback } = await authorizeAsNewPerson();
    const tokens = await redeem(as, client, auth, attempt, callback);
    await oauth.processRevocationResponse(await oauth.revocationRequest(as, client, auth, tokens.refresh_token!, insecure));
    expect(await introspect(tokens.access_token)).toEqual({ active: false });
    expect(await refresh(tokens.refresh_token!).catch((e) => e)).toMatchObject({ error: 'invalid_grant', status: 400 });
  });

  it('skips the consent page when a remembered consent covers the request, and asks again for more', async () => {
    const { person, ua, attempt, callback } = await authorizeAsNewPerson({ remember: true });
    await redeem(as, client, auth, attempt, callback);

    // Same browser, same session: straight back to the client, with a fresh code.
    const second = await start();
    const direct = await ua.fetch(second.url);
    expect(direct.status).toBe(302);
    const back = new URL(direct.headers.get('location')!);
    const tokens = await redeem(as, client, auth, second, back);
    expect(await introspect(tokens.access_token)).toMatchObject({ active: true, sub: person.user.id, scope: 'notes:read' });

    // A scope beyond what was remembered needs the person's word again.
    const more = await start('notes:read notes:write');
    const page = expectPage(await ua.open(more.url), 200);
    expect(isConsentPage(page)).toBe(true);
    const afterMore = expectCallback(await ua.consent('allow', { remember: true }));
    expect((await redeem(as, client, auth, more, afterMore)).scope).toBe('notes:read notes:write');
    // Now both scopes are remembered: no consent page for either.
    const again = await start('notes:read notes:write');
    expectCallback(await ua.open(again.url));
  });

  it('asks again when consent was given without "remember"', async () => {
    const { ua, attempt, callback } = await authorizeAsNewPerson({ remember: false });
    await redeem(as, client, auth, attempt, callback);
    const second = await start();
    expect(isConsentPage(expectPage(await ua.open(second.url), 200))).toBe(true);
  });

  it('returns access_denied when the person denies, which oauth4webapi reports as an authorization error', async () => {
    const person = await aPerson(users);
    const ua = new UserAgent(server.url);
    const attempt = await start();
    await ua.open(attempt.url);
    await ua.signIn(person.username, person.password);
    const callback = expectCallback(await ua.consent('deny'));
    expect(callback.searchParams.get('code')).toBeNull();
    expect(callback.searchParams.get('state')).toBe(attempt.state);
    expect(callback.searchParams.get('iss')).toBe(as.issuer);

    const denied = (() => {
      try {
        return oauth.validateAuthResponse(as, client, callback, attempt.state);
      } catch (e) {
        return e;
      }
    })();
    expect(denied).toBeInstanceOf(oauth.AuthorizationResponseError);
    expect(denied).toMatchObject({ error: 'access_denied' });
    // A denial is not remembered: the next request asks again.
    expect(isConsentPage(expectPage(await ua.open((await start()).url), 200))).toBe(true);
  });

  it('stops a disabled person: no more sign-in, and their tokens and session stop working', async () => {
    const { person, ua, attempt, callback } = await authorizeAsNewPerson({ remember: true });
    const tokens = await redeem(as, client, auth, attempt, callback);
    expect(await introspect(tokens.access_token)).toMatchObject({ active: true });

    await users.disable(person.username);

    expect(await introspect(tokens.access_token)).toEqual({ active: false });
    const refused = await refresh(tokens.refresh_token!).catch((e) => e);
    expect(refused).toMatchObject({ error: 'invalid_grant', status: 400 });
    // The session is gone: the same browser is sent to the login page, and the password no longer works.
    const next = await start();
    expect(isLoginPage(expectPage(await ua.open(next.url), 200))).toBe(true);
    const page = expectPage(await ua.signIn(person.username, person.password), 401);
    expect(textOf(page.html)).toContain(INCORRECT);
  });
});
