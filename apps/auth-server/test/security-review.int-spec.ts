// Issue 12 security review: regressions for what the review found in the parts issue 12 added, on real
// PostgreSQL through the real app module.
import { randomBytes } from 'node:crypto';
import { ClientRepository, s256Challenge, UserRepository } from '@tessera/oauth-core';
import { aUser, ManualClock } from '@tessera/testing';
import pg from 'pg';
import { runCli } from '../../cli/src/cli.js';
import { basicAuth, INITIAL_ACCESS_TOKEN, postForm, registerClient, startAuthServer, TEST_KEY_ENCRYPTION_KEY, type RunningAuthServer } from './auth-server.harness.js';

const REDIRECT_URI = 'https://app.example/cb';
type Credentials = { client_id: string; client_secret: string };

let server: RunningAuthServer;
beforeAll(async () => {
  server = await startAuthServer();
});
afterAll(() => server.stop());

const as = (c: Credentials) => ({ authorization: basicAuth(c.client_id, c.client_secret) });

describe('refresh tokens of a client whose tokens were revoked', () => {
  async function webClient(): Promise<Credentials> {
    return registerClient(server.url, { client_name: 'web app', grant_types: ['authorization_code', 'refresh_token'], redirect_uris: [REDIRECT_URI] });
  }

  /** An authorization code for `web`, issued as the authorization endpoint would, for a new user. */
  async function codeFor(web: Credentials): Promise<{ code: string; codeVerifier: string }> {
    const user = aUser();
    await server.app.get(UserRepository).create(user);
    const client = (await server.app.get(ClientRepository).findById(web.client_id))!;
    const codeVerifier = randomBytes(32).toString('base64url');
    const code = await server.services.authorizationCodeIssuer.issue({
      client,
      redirectUri: REDIRECT_URI,
      codeChallenge: s256Challenge(codeVerifier),
      codeChallengeMethod: 'S256',
      scope: ['read'],
      resources: [],
      subject: user.id,
    });
    return { code, codeVerifier };
  }

  async function refreshTokenFor(web: Credentials): Promise<string> {
    const { code, codeVerifier } = await codeFor(web);
    const res = await postForm(`${server.url}/oauth2/token`, { grant_type: 'authorization_code', code, code_verifier: codeVerifier, redirect_uri: REDIRECT_URI }, as(web));
    expect(res.status).toBe(200);
    return (await res.json()).refresh_token;
  }

  const refresh = (web: Credentials, refreshToken: string) =>
    postForm(`${server.url}/oauth2/token`, { grant_type: 'refresh_token', refresh_token: refreshToken }, as(web));

  async function expectRefused(res: Response) {
    expect({ status: res.status, body: await res.json() }).toEqual({ status: 400, body: { error: 'invalid_grant', error_description: 'invalid refresh token' } });
    expect(res.headers.get('cache-control')).toBe('no-store');
  }

  it('stay revoked once a disabled client is enabled again (disabling revokes every token issued to it)', async () => {
    const web = await webClient();
    const refreshToken = await refreshTokenFor(web);
    await server.services.registrar.disable(web.client_id);
    await server.services.registrar.enable(web.client_id);
    await expectRefused(await refresh(web, refreshToken));
    // A refresh token issued after the client was enabled again works.
    expect((await refresh(web, await refreshTokenFor(web))).status).toBe(200);
  });

  it('come with no code issued before the client was disabled: such a code is void once it is enabled again', async () => {
    const web = await webClient();
    const { code, codeVerifier } = await codeFor(web);
    await server.services.registrar.disable(web.client_id);
    await server.services.registrar.enable(web.client_id);
    const res = await postForm(`${server.url}/oauth2/token`, { grant_type: 'authorization_code', code, code_verifier: codeVerifier, redirect_uri: REDIRECT_URI }, as(web));
    expect({ status: res.status, body: await res.json() }).toEqual({ status: 400, body: { error: 'invalid_grant', error_description: 'invalid authorization code' } });
  });

  it('stop working when the secret is rotated with its tokens revoked', async () => {
    const web = await webClient();
    const refreshToken = await refreshTokenFor(web);
    const { clientSecret } = await server.services.registrar.rotateSecret(web.client_id, true);
    await expectRefused(await refresh({ client_id: web.client_id, client_secret: clientSecret }, refreshToken));
  });

  it('keep working when the secret is rotated without revoking tokens', async () => {
    const web = await webClient();
    const refreshToken = await refreshTokenFor(web);
    const { clientSecret } = await server.services.registrar.rotateSecret(web.client_id, false);
    expect((await refresh({ client_id: web.client_id, client_secret: clientSecret }, refreshToken)).status).toBe(200);
  });
});

describe('the client configuration endpoint (RFC 7592)', () => {
  type Registered = Credentials & { registration_access_token: string; registration_client_uri: string };
  const register = () => registerClient(server.url, { client_name: 'svc', scope: 'read' }) as Promise<Registered>;

  it('takes the Bearer scheme in any case (RFC 9110 §11.1: the scheme name is case-insensitive), as registration does', async () => {
    const c = await register();
    for (const scheme of ['bearer', 'BEARER', 'bEaReR']) {
      const res = await fetch(c.registration_client_uri, { headers: { authorization: `${scheme} ${c.registration_access_token}` } });
      expect({ scheme, status: res.status }).toEqual({ scheme, status: 200 });
    }
    const registered = await fetch(`${server.url}/oauth2/register`, {
      method: 'POST',
      headers: { authorization: `bearer ${INITIAL_ACCESS_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ client_name: 'lower-case scheme' }),
    });
    expect(registered.status).toBe(201);
  });

  it.each([
    ['no Authorization header', undefined],
    ['an empty bearer token', 'Bearer '],
    ['another scheme', 'Basic dXNlcjpwYXNz'],
  ])('answers a request with %s by a challenge without an error code (RFC 6750 §3.1), at both endpoints', async (_, authorization) => {
    const c = await register();
    const headers: Record<string, string> = { 'content-type': 'application/json', ...(authorization === undefined ? {} : { authorization }) };
    const configuration = await fetch(c.registration_client_uri, { headers });
    const registration = await fetch(`${server.url}/oauth2/register`, { method: 'POST', headers, body: '{}' });
    for (const [res, description] of [
      [configuration, 'a registration access token is required'],
      [registration, 'a valid initial access token is required'],
    ] as const) {
      expect({ status: res.status, challenge: res.headers.get('www-authenticate'), body: await res.json() }).toEqual({
        status: 401,
        challenge: 'Bearer realm="tessera"',
        body: { error: 'invalid_token', error_description: description },
      });
      expect(res.headers.get('cache-control')).toBe('no-store');
    }
    // A token that is there but wrong keeps its error code.
    const wrong = await fetch(c.registration_client_uri, { headers: { authorization: 'Bearer tsr_rat_wrong' } });
    expect(wrong.headers.get('www-authenticate')).toBe('Bearer realm="tessera", error="invalid_token", error_description="the registration access token is not valid for this client"');
  });

  it('refuses a client_name with a lone surrogate (not a character; stored, it would turn into U+FFFD)', async () => {
    const c = await register();
    const res = await fetch(c.registration_client_uri, {
      method: 'PUT',
      headers: { authorization: `Bearer ${c.registration_access_token}`, 'content-type': 'application/json' },
      body: `{"client_id":"${c.client_id}","client_name":"a\\ud800b"}`,
    });
    expect({ status: res.status, body: await res.json() }).toEqual({
      status: 400,
      body: { error: 'invalid_client_metadata', error_description: 'client_name must not contain control or bidirectional formatting characters' },
    });
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await (await fetch(c.registration_client_uri, { headers: { authorization: `Bearer ${c.registration_access_token}` } })).json()).toMatchObject({ client_name: 'svc' });
  });
});

describe('the per-address limit of registration and client configuration, without TESSERA_TRUST_PROXY', () => {
  let limited: RunningAuthServer;
  beforeAll(async () => {
    limited = await startAuthServer({ env: { TESSERA_RATE_LIMIT_REGISTRATION_PER_ADDRESS: '4', TESSERA_RATE_LIMIT_WINDOW: '86400', TESSERA_RATE_LIMIT_FLUSH_INTERVAL: '3600' } });
  });
  afterAll(() => limited.stop());

  it('counts by the peer address, whatever X-Forwarded-For claims, and answers 429 as RFC 6749 §5.2 errors are answered', async () => {
    const c = (await registerClient(limited.url)) as Credentials & { registration_access_token: string; registration_client_uri: string };
    const read = (forwardedFor: string, token = c.registration_access_token) =>
      fetch(c.registration_client_uri, { headers: { authorization: `Bearer ${token}`, 'x-forwarded-for': forwardedFor, forwarded: `for=${forwardedFor}` } });
    // One registration spent; three more requests, each claiming another address, one with a wrong token.
    expect([(await read('198.51.100.1')).status, (await read('198.51.100.2', 'tsr_rat_wrong')).status, (await read('2001:db8::1')).status]).toEqual([200, 401, 200]);
    const refused = await read('198.51.100.4');
    expect({ status: refused.status, body: await refused.json() }).toEqual({
      status: 429,
      body: { error: 'too_many_requests', error_description: expect.stringMatching(/^too many requests from this address, try again in \d+ s$/) },
    });
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(refused.headers.get('cache-control')).toBe('no-store');
    expect(refused.headers.get('www-authenticate')).toBeNull();
    // Deleting and replacing count on the same budget.
    expect((await fetch(c.registration_client_uri, { method: 'DELETE', headers: { authorization: `Bearer ${c.registration_access_token}` } })).status).toBe(429);
  });
});

describe('the operator CLI on a client name stored before names were checked', () => {
  async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
    let out = '';
    let err = '';
    const env = { DATABASE_URL: server.databaseUrl, TESSERA_KEY_ENCRYPTION_KEY: TEST_KEY_ENCRYPTION_KEY };
    const code = await runCli(args, { out: { write: (t: string) => (out += t) }, err: { write: (t: string) => (err += t) } }, env);
    return { code, out, err };
  }

  it('prints no terminal escape or bidi override of it (in `clients list` and `clients show`)', async () => {
    const c = await registerClient(server.url, { client_name: 'plain' });
    const db = new pg.Client({ connectionString: server.databaseUrl });
    await db.connect();
    try {
      await db.query('UPDATE clients SET client_name = $1 WHERE client_id = $2', ['\x1b]0;owned\x07\x1b[2Jtrusted\u202eevil', c.client_id]);
    } finally {
      await db.end();
    }
    for (const args of [['clients', 'list'], ['clients', 'show', c.client_id]]) {
      const { code, out } = await cli(...args);
      expect({ args, code }).toEqual({ args, code: 0 });
      expect(out).toContain('trustedevil');
      expect(out).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f\u202e]/);
    }
  });
});

describe('scheduled key rotation', () => {
  it("destroys the retired key's private half (only its public half stays published)", async () => {
    const clock = new ManualClock();
    const rotating = await startAuthServer({ clock, env: { TESSERA_ACCESS_TOKEN_TTL: '60', TESSERA_MAX_ACCESS_TOKEN_TTL: '60', TESSERA_KEY_ROTATION_INTERVAL: '60' } });
    try {
      const before = rotating.services.keys.signingKey().kid;
      clock.advance(61);
      expect(await rotating.services.keys.rotateIfDue(60)).toBe(true);
      const db = new pg.Client({ connectionString: rotating.databaseUrl });
      await db.connect();
      try {
        const rows = (await db.query('SELECT kid, status, private_key IS NULL AS destroyed FROM signing_keys ORDER BY created_at')).rows;
        expect(rows).toEqual([
          { kid: before, status: 'retired', destroyed: true },
          { kid: expect.any(String), status: 'active', destroyed: false },
        ]);
      } finally {
        await db.end();
      }
      const jwks = await (await fetch(`${rotating.url}/.well-known/jwks.json`)).json();
      expect(jwks.keys.map((k: { kid: string }) => k.kid)).toContain(before);
      expect(jwks.keys.every((k: Record<string, unknown>) => k.d === undefined)).toBe(true);
    } finally {
      await rotating.stop();
    }
  });
});

describe('the public documents', () => {
  it('/openapi.json and /metrics are never sniffed as another type (X-Content-Type-Options: nosniff), like /docs', async () => {
    for (const path of ['/openapi.json', '/metrics', '/docs']) {
      const res = await fetch(`${server.url}${path}`);
      expect({ path, status: res.status, nosniff: res.headers.get('x-content-type-options') }).toEqual({ path, status: 200, nosniff: 'nosniff' });
    }
  });
});
