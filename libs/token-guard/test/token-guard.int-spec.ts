import { createPublicKey, type JsonWebKey } from 'node:crypto';
import { base64url, decodeJwt, generateKeyPair, SignJWT, type JWTHeaderParameters, type JWTPayload } from 'jose';
import { KeySet } from '@tessera/tokens';
import { basicAuth, postForm, registerClient, startAuthServer, type RunningAuthServer } from '../../../apps/auth-server/test/auth-server.harness.js';
import { AUDIENCE, startResourceApp, type Platform, type RunningResourceApp } from './resource-app.harness.js';

type Client = { client_id: string; client_secret: string };

let server: RunningAuthServer;
let introspector: Client;
const clients = {} as Record<'jwt' | 'opaque' | 'jwtElsewhere' | 'opaqueElsewhere', Client>;

beforeAll(async () => {
  server = await startAuthServer();
  introspector = await registerClient(server.url, { client_name: 'reports api', scope: '', resource_server_for: [AUDIENCE] });
  clients.jwt = await registerClient(server.url, { access_token_format: 'jwt', resources: [AUDIENCE], scope: 'read write admin' });
  clients.opaque = await registerClient(server.url, { access_token_format: 'opaque', resources: [AUDIENCE], scope: 'read write admin' });
  clients.jwtElsewhere = await registerClient(server.url, { access_token_format: 'jwt', resources: ['https://other.example'] });
  clients.opaqueElsewhere = await registerClient(server.url, { access_token_format: 'opaque', resources: ['https://other.example'] });
});
afterAll(() => server.stop());

async function issue(client: Client, scope = 'read', authServer = server.url): Promise<string> {
  const res = await postForm(`${authServer}/oauth2/token`, { grant_type: 'client_credentials', scope }, { authorization: basicAuth(client.client_id, client.client_secret) });
  if (res.status !== 200) throw new Error(`token request failed: ${res.status} ${await res.text()}`);
  return (await res.json()).access_token;
}

function call(app: RunningResourceApp, token?: string, path = '/reports', headers: Record<string, string> = {}) {
  return fetch(`${app.url}${path}`, { headers: { ...(token !== undefined && { authorization: `Bearer ${token}` }), ...headers } });
}

/** The exact RFC 6750 §3 refusal: status, challenge, JSON body, no-store. */
async function expectRefusal(res: Response, status: 400 | 401, error: 'invalid_request' | 'invalid_token', description: string) {
  expect({ status: res.status, body: await res.json() }).toEqual({ status, body: { error, error_description: description } });
  expect(res.headers.get('www-authenticate')).toBe(`Bearer realm="${AUDIENCE}", error="${error}", error_description="${description}"`);
  expect(res.headers.get('cache-control')).toBe('no-store');
}

describe.each<Platform>(['fastify', 'express'])('TokenGuard on %s', (platform) => {
  let app: RunningResourceApp;
  const options = () => ({
    issuer: server.url,
    audience: AUDIENCE,
    introspection: { clientId: introspector.client_id, clientSecret: introspector.client_secret },
  });
  beforeAll(async () => {
    app = await startResourceApp(platform, options(), { async: true });
  });
  afterAll(() => app.close());

  it('accepts a valid JWT and hands the handler its claims', async () => {
    const token = await issue(clients.jwt);
    const res = await call(app, token);
    expect(res.status).toBe(200);
    const { exp, jti } = decodeJwt(token);
    expect(await res.json()).toEqual({
      subject: clients.jwt.client_id,
      clientId: clients.jwt.client_id,
      scopes: ['read'],
      audience: [AUDIENCE],
      issuer: server.url,
      expiresAt: new Date(exp! * 1000).toISOString(),
      jti,
      format: 'jwt',
    });
    expect((await call(app, token)).status).toBe(200); // again, from the verified-token cache
  });

  it('accepts a valid opaque token and hands the handler its claims', async () => {
    const token = await issue(clients.opaque);
    const res = await call(app, token);
    expect(res.status).toBe(200);
    const introspected = await (await postForm(`${server.url}/oauth2/introspect`, { token }, { authorization: basicAuth(introspector.client_id, introspector.client_secret) })).json();
    expect(await res.json()).toEqual({
      subject: clients.opaque.client_id,
      clientId: clients.opaque.client_id,
      scopes: ['read'],
      audience: [AUDIENCE],
      issuer: server.url,
      expiresAt: new Date(introspected.exp * 1000).toISOString(),
      jti: introspected.jti,
      format: 'opaque',
    });
  });

  it('answers a request without a token with a bare challenge', async () => {
    for (const headers of [{}, { authorization: 'Basic dXNlcjpwYXNz' }] as Record<string, string>[]) {
      const res = await call(app, undefined, '/reports', headers);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe(`Bearer realm="${AUDIENCE}"`);
      expect(await res.json()).toEqual({});
    }
  });

  it('refuses a malformed Authorization header with 400 invalid_request', async () => {
    await expectRefusal(await call(app, undefined, '/reports', { authorization: 'Bearer a b' }), 400, 'invalid_request', 'malformed Bearer authorization header');
  });

  it('refuses the access_token query parameter by default', async () => {
    const token = await issue(clients.jwt);
    await expectRefusal(await call(app, undefined, `/reports?access_token=${token}`), 400, 'invalid_request', 'access tokens are not accepted in the query string');
  });

  it.each([
    ['opaque', 'garbage', 'token is not active'],
    ['JWT-shaped', 'a.b.c', 'malformed token'],
  ])('refuses a %s garbage token', async (_shape, token, description) => {
    await expectRefusal(await call(app, token), 401, 'invalid_token', description);
  });

  // A JWT's audience is checked locally; the auth server tells a resource server nothing about an opaque token of another audience.
  it.each([
    ['jwt', 'unexpected audience'],
    ['opaque', 'token is not active'],
  ] as const)('refuses a %s token for another audience', async (format, description) => {
    const token = await issue(format === 'jwt' ? clients.jwtElsewhere : clients.opaqueElsewhere);
    await expectRefusal(await call(app, token), 401, 'invalid_token', description);
  });

  it.each(['jwt', 'opaque'] as const)('answers a %s token without a required scope with 403 insufficient_scope', async (format) => {
    const token = await issue(clients[format], 'read');
    const res = await call(app, token, '/reports/admin');
    expect(res.status).toBe(403);
    expect(res.headers.get('www-authenticate')).toBe(`Bearer realm="${AUDIENCE}", error="insufficient_scope", scope="read admin"`);
    expect(await res.json()).toEqual({ error: 'insufficient_scope', error_description: 'the token lacks the required scope: admin' });
    expect((await call(app, await issue(clients[format], 'read admin'), '/reports/admin')).status).toBe(200);
  });

  describe('JWTs crafted with the auth server’s own signing key, each wrong in one way', () => {
    const now = () => Math.floor(Date.now() / 1000);
    const claims = (): JWTPayload => ({
      iss: server.url,
      sub: 'crafted-subject',
      aud: AUDIENCE,
      client_id: 'crafted-client',
      scope: 'read',
      jti: 'crafted-jti',
      iat: now(),
      exp: now() + 300,
    });
    /** Signs with the auth server's active key; an `undefined` member leaves it out. */
    async function sign(payload: JWTPayload = {}, header: Partial<JWTHeaderParameters> = {}): Promise<string> {
      const { kid, alg, key } = server.app.get(KeySet, { strict: false }).signingKey();
      const prune = <T extends object>(o: T) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
      return new SignJWT(prune({ ...claims(), ...payload }))
        .setProtectedHeader(prune({ alg, kid, typ: 'at+jwt', ...header }) as JWTHeaderParameters)
        .sign(key);
    }

    it('accepts the unaltered crafted token, with typ application/at+jwt too', async () => {
      expect((await call(app, await sign())).status).toBe(200);
      expect((await call(app, await sign({ jti: 'other' }, { typ: 'application/at+jwt' }))).status).toBe(200);
    });

    it('accepts a token expired by less than the clock tolerance (5 s), and refuses one expired longer ago', async () => {
      expect((await call(app, await sign({ exp: now() - 2, jti: 'just-expired' }))).status).toBe(200);
      await expectRefusal(await call(app, await sign({ exp: now() - 60 })), 401, 'invalid_token', 'token expired');
    });

    it.each<[string, () => Promise<string>, string]>([
      ['not yet valid', () => sign({ nbf: now() + 60 }), 'token not yet valid'],
      ['from another issuer', () => sign({ iss: 'https://evil.example' }), 'unexpected issuer'],
      ['for another audience', () => sign({ aud: ['https://other.example'] }), 'unexpected audience'],
      ['without typ', () => sign({}, { typ: undefined }), 'token type is not at+jwt'],
      ['with typ JWT', () => sign({}, { typ: 'JWT' }), 'token type is not at+jwt'],
      ['without kid', () => sign({}, { kid: undefined }), 'token has no kid'],
      ['without jti', () => sign({ jti: undefined }), 'token has no jti claim'],
      ['without exp', () => sign({ exp: undefined }), 'token has no exp claim'],
    ])('refuses a token %s', async (_case, token, description) => {
      await expectRefusal(await call(app, await token()), 401, 'invalid_token', description);
    });
  });

  describe('forged and tampered JWTs', () => {
    const segments = async () => (await issue(clients.jwt)).split('.');
    const flip = (s: string, at: number) => s.slice(0, at) + (s[at] === 'A' ? 'B' : 'A') + s.slice(at + 1);

    it('refuses alg none', async () => {
      const [header, payload] = await segments();
      const none = base64url.encode(JSON.stringify({ ...JSON.parse(new TextDecoder().decode(base64url.decode(header))), alg: 'none' }));
      await expectRefusal(await call(app, `${none}.${payload}.`), 401, 'invalid_token', 'algorithm not allowed');
    });

    it('refuses HS256 signed with the public key of the JWKS as the secret', async () => {
      const { keys } = await (await fetch(`${server.url}/.well-known/jwks.json`)).json();
      const jwk = keys[0] as JsonWebKey & { kid: string };
      const secret = new TextEncoder().encode(createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' }) as string);
      const token = await new SignJWT(decodeJwt(await issue(clients.jwt))).setProtectedHeader({ alg: 'HS256', kid: jwk.kid, typ: 'at+jwt' }).sign(secret);
      await expectRefusal(await call(app, token), 401, 'invalid_token', 'algorithm not allowed');
    });

    it('refuses a tampered payload', async () => {
      const [header, payload, signature] = await segments();
      const widened = base64url.encode(JSON.stringify({ ...decodeJwt(`${header}.${payload}.${signature}`), scope: 'read write admin' }));
      await expectRefusal(await call(app, `${header}.${widened}.${signature}`, '/reports/admin'), 401, 'invalid_token', 'invalid signature');
    });

    it('refuses a tampered signature', async () => {
      const [header, payload, signature] = await segments();
      await expectRefusal(await call(app, `${header}.${payload}.${flip(signature, 10)}`), 401, 'invalid_token', 'invalid signature');
    });

    it('refuses a token signed with a key that is not in the JWKS', async () => {
      const { privateKey } = await generateKeyPair('ES256');
      const token = await new SignJWT(decodeJwt(await issue(clients.jwt))).setProtectedHeader({ alg: 'ES256', kid: 'not-in-the-jwks', typ: 'at+jwt' }).sign(privateKey);
      await expectRefusal(await call(app, token), 401, 'invalid_token', 'unknown signing key');
    });
  });

  it('without the revocation feed, keeps accepting a revoked opaque token while its result is cached, and refuses it once the entry expires', async () => {
    const shortCache = await startResourceApp(platform, { ...options(), introspectionCache: { ttlSeconds: 1 }, revocationFeed: { enabled: false } });
    try {
      const token = await issue(clients.opaque);
      expect((await call(shortCache, token)).status).toBe(200);
      const revoked = await postForm(`${server.url}/oauth2/revoke`, { token }, { authorization: basicAuth(clients.opaque.client_id, clients.opaque.client_secret) });
      expect(revoked.status).toBe(200);
      expect((await call(shortCache, token)).status).toBe(200);
      await new Promise((r) => setTimeout(r, 1_100));
      await expectRefusal(await call(shortCache, token), 401, 'invalid_token', 'token is not active');
    } finally {
      await shortCache.close();
    }
  });

  it('with the revocation feed (on by default), refuses a revoked opaque token at once despite its cached result', async () => {
    const token = await issue(clients.opaque);
    expect((await call(app, token)).status).toBe(200);
    const revoked = await postForm(`${server.url}/oauth2/revoke`, { token }, { authorization: basicAuth(clients.opaque.client_id, clients.opaque.client_secret) });
    expect(revoked.status).toBe(200);
    for (let i = 0; i < 50 && (await call(app, token)).status === 200; i++) await new Promise((r) => setTimeout(r, 20));
    await expectRefusal(await call(app, token), 401, 'invalid_token', 'token is not active');
  });

  it('asks for the introspection credentials at each call, so they may arrive after start-up', async () => {
    let registered: { clientId: string; clientSecret: string } | undefined;
    const lateApp = await startResourceApp(platform, {
      issuer: server.url,
      audience: AUDIENCE,
      introspection: () => registered,
    });
    try {
      const token = await issue(clients.opaque);
      const early = await call(lateApp, token);
      expect({ status: early.status, body: await early.json() }).toEqual({
        status: 503,
        body: { error: 'temporarily_unavailable', error_description: 'the service is temporarily unavailable, try again later' },
      });
      registered = { clientId: introspector.client_id, clientSecret: introspector.client_secret };
      expect((await call(lateApp, token)).status).toBe(200);
    } finally {
      await lateApp.close();
    }
  });

  it('with allowQueryToken, accepts a query token but never two methods; without introspection, refuses opaque tokens', async () => {
    const queryApp = await startResourceApp(platform, { issuer: server.url, audience: AUDIENCE, allowQueryToken: true, realm: 'reports' });
    try {
      const token = await issue(clients.jwt);
      expect((await call(queryApp, undefined, `/reports?access_token=${token}`)).status).toBe(200);
      const both = await call(queryApp, token, `/reports?access_token=${token}`);
      expect(both.status).toBe(400);
      expect(both.headers.get('www-authenticate')).toBe('Bearer realm="reports", error="invalid_request", error_description="more than one method was used to send the access token"');
      const opaque = await call(queryApp, await issue(clients.opaque));
      expect(opaque.status).toBe(401);
      expect(opaque.headers.get('www-authenticate')).toBe('Bearer realm="reports", error="invalid_token", error_description="opaque tokens are not accepted here"');
      expect(await opaque.json()).toEqual({ error: 'invalid_token', error_description: 'opaque tokens are not accepted here' });
    } finally {
      await queryApp.close();
    }
  });
});
