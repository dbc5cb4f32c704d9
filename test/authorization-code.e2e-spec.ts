// The authorization_code grant with PKCE and refresh-token rotation, driven by oauth4webapi as a
// confidential web client and a single-page app (public client) would, for both token formats.
// No authorization endpoint exists yet: the code comes from the app's AuthorizationCodeIssuer, and
// the callback parameters (code, state, iss) are built as the redirect would carry them.
import { AuthorizationCodeIssuer, ClientRepository, UserRepository } from '@tessera/oauth-core';
import { aUser } from '@tessera/testing';
import * as oauth from 'oauth4webapi';
import { registerClient, startAuthServer, type RunningAuthServer } from '../apps/auth-server/test/auth-server.harness.js';

const API = 'https://api.example';
const REDIRECT_URI = 'http://127.0.0.1:8080/callback';
let server: RunningAuthServer;
let as: oauth.AuthorizationServer;
let rs: oauth.Client;
let rsAuth: oauth.ClientAuth;
const insecure = { [oauth.allowInsecureRequests]: true };

beforeAll(async () => {
  server = await startAuthServer();
  const issuer = new URL(server.url);
  as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { ...insecure, algorithm: 'oauth2' }));
  const api = await registerClient(server.url, { client_name: 'api' });
  rs = { client_id: api.client_id };
  rsAuth = oauth.ClientSecretBasic(api.client_secret);
});
afterAll(() => server.stop());

it('advertises the code grant with S256 only', () => {
  expect(as.grant_types_supported).toEqual(['client_credentials', 'authorization_code', 'refresh_token']);
  expect(as.code_challenge_methods_supported).toEqual(['S256']);
  expect(as.token_endpoint_auth_methods_supported).toContain('none');
  expect(as.response_types_supported).toEqual([]);
});

describe.each([
  ['opaque', 'web'],
  ['opaque', 'spa'],
  ['jwt', 'web'],
  ['jwt', 'spa'],
] as const)('%s access tokens, %s client, through oauth4webapi', (format, kind) => {
  let client: oauth.Client;
  let auth: oauth.ClientAuth;
  beforeAll(async () => {
    const c = await registerClient(server.url, {
      client_name: kind,
      grant_types: ['authorization_code', 'refresh_token'],
      redirect_uris: [REDIRECT_URI],
      access_token_format: format,
      scope: 'notes:read notes:write',
      resources: [API],
      ...(kind === 'spa' ? { token_endpoint_auth_method: 'none' } : {}),
    });
    client = { client_id: c.client_id };
    auth = kind === 'spa' ? oauth.None() : oauth.ClientSecretBasic(c.client_secret);
  });

  const introspect = async (token: string) =>
    oauth.processIntrospectionResponse(as, rs, await oauth.introspectionRequest(as, rs, rsAuth, token, insecure));

  /** What the authorization endpoint will do: the user signs in and consents, the client gets a code. */
  async function authorize(codeChallenge: string, state: string) {
    const user = aUser();
    await server.app.get(UserRepository).create(user);
    const registered = (await server.app.get(ClientRepository).findById(client.client_id))!;
    const code = await server.app.get(AuthorizationCodeIssuer).issue({
      client: registered,
      redirectUri: REDIRECT_URI,
      codeChallenge,
      codeChallengeMethod: 'S256',
      scope: ['notes:read'],
      resources: [API],
      subject: user.id,
    });
    return { user, callback: new URL(`${REDIRECT_URI}?${new URLSearchParams({ code, state, iss: as.issuer })}`) };
  }

  it('completes the code flow with PKCE, then refreshes with rotation', async () => {
    const codeVerifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const { user, callback } = await authorize(await oauth.calculatePKCECodeChallenge(codeVerifier), state);

    const params = oauth.validateAuthResponse(as, client, callback, state);
    const response = await oauth.authorizationCodeGrantRequest(as, client, auth, params, REDIRECT_URI, codeVerifier, insecure);
    const tokens = await oauth.processAuthorizationCodeResponse(as, client, response);
    expect(tokens).toMatchObject({ token_type: 'bearer', scope: 'notes:read', expires_in: 3600, refresh_token: expect.stringMatching(/^tsr_rt_/) });
    expect(await introspect(tokens.access_token)).toMatchObject({ active: true, sub: user.id, client_id: client.client_id, aud: API });
    if (format === 'jwt') {
      const request = new Request(API, { headers: { authorization: `Bearer ${tokens.access_token}` } });
      expect(await oauth.validateJwtAccessToken(as, request, API, insecure)).toMatchObject({ sub: user.id, client_id: client.client_id, scope: 'notes:read' });
    }

    const refreshed = await oauth.processRefreshTokenResponse(
      as,
      client,
      await oauth.refreshTokenGrantRequest(as, client, auth, tokens.refresh_token!, insecure),
    );
    expect(refreshed).toMatchObject({ token_type: 'bearer', scope: 'notes:read', refresh_token: expect.stringMatching(/^tsr_rt_/) });
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
    expect(await introspect(refreshed.access_token)).toMatchObject({ active: true, sub: user.id });

    // A stolen, already rotated refresh token: refused, and the family is revoked.
    const reuse = await oauth
      .processRefreshTokenResponse(as, client, await oauth.refreshTokenGrantRequest(as, client, auth, tokens.refresh_token!, insecure))
      .catch((e) => e);
    expect(reuse).toBeInstanceOf(oauth.ResponseBodyError);
    expect(reuse).toMatchObject({ error: 'invalid_grant', status: 400 });
    expect(await introspect(refreshed.access_token)).toEqual({ active: false });
    expect(await introspect(tokens.access_token)).toEqual({ active: false });
  });

  it('reports a wrong verifier and a replayed code as invalid_grant', async () => {
    const codeVerifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const { callback } = await authorize(await oauth.calculatePKCECodeChallenge(codeVerifier), state);
    const params = oauth.validateAuthResponse(as, client, callback, state);
    const redeem = async (verifier: string) =>
      oauth.processAuthorizationCodeResponse(as, client, await oauth.authorizationCodeGrantRequest(as, client, auth, params, REDIRECT_URI, verifier, insecure));

    const wrong = await redeem(oauth.generateRandomCodeVerifier()).catch((e) => e);
    expect(wrong).toMatchObject({ error: 'invalid_grant', status: 400 });
    // The failed attempt spent the code: the right verifier now finds it used.
    const replay = await redeem(codeVerifier).catch((e) => e);
    expect(replay).toMatchObject({ error: 'invalid_grant', error_description: expect.stringContaining('already used') });
  });
});
