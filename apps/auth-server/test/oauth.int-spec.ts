import { decodeJwt, decodeProtectedHeader } from 'jose';
import { basicAuth, INITIAL_ACCESS_TOKEN, postForm, registerClient, startAuthServer, type RunningAuthServer } from './auth-server.harness.js';

let server: RunningAuthServer;
beforeAll(async () => {
  server = await startAuthServer();
});
afterAll(() => server.stop());

describe.each(['opaque', 'jwt'] as const)('client_credentials with %s access tokens', (format) => {
  let client: { client_id: string; client_secret: string };
  let rs: { client_id: string; client_secret: string };
  beforeAll(async () => {
    client = await registerClient(server.url, { access_token_format: format, resources: ['https://api.example'] });
    rs = await registerClient(server.url, { client_name: 'resource server', scope: '', resource_server_for: ['https://api.example'] });
  });
  const token = (body: Record<string, string>) =>
    postForm(`${server.url}/oauth2/token`, { grant_type: 'client_credentials', ...body }, { authorization: basicAuth(client.client_id, client.client_secret) });

  it('issues a token with RFC 6749 §5.1 headers and body', async () => {
    const res = await token({ scope: 'read' });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('pragma')).toBe('no-cache');
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const body = await res.json();
    expect(body).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: 3600, scope: 'read' });
    if (format === 'opaque') {
      expect(body.access_token).toMatch(/^tsr_at_[A-Za-z0-9_-]{43}$/);
    } else {
      expect(decodeProtectedHeader(body.access_token)).toMatchObject({ typ: 'at+jwt', alg: 'ES256', kid: expect.any(String) });
      expect(decodeJwt(body.access_token)).toEqual({
        iss: server.url,
        sub: client.client_id,
        aud: 'https://api.example',
        client_id: client.client_id,
        scope: 'read',
        iat: expect.any(Number),
        exp: expect.any(Number),
        jti: expect.any(String),
      });
    }
  });

  it('is active on introspection, then inactive after revocation', async () => {
    const { access_token } = await (await token({ scope: 'read write' })).json();
    const introspect = () => postForm(`${server.url}/oauth2/introspect`, { token: access_token }, { authorization: basicAuth(rs.client_id, rs.client_secret) });
    const active = await introspect();
    expect(active.status).toBe(200);
    expect(active.headers.get('cache-control')).toBe('no-store');
    const claims = await active.json();
    expect(claims).toEqual({
      active: true,
      scope: 'read write',
      client_id: client.client_id,
      token_type: 'Bearer',
      sub: client.client_id,
      aud: 'https://api.example',
      iss: server.url,
      exp: claims.iat + 3600,
      iat: expect.any(Number),
      jti: expect.any(String),
    });

    const revoked = await postForm(`${server.url}/oauth2/revoke`, { token: access_token, token_type_hint: 'access_token' }, {
      authorization: basicAuth(client.client_id, client.client_secret),
    });
    expect(revoked.status).toBe(200);
    expect(await revoked.text()).toBe('');
    expect(await (await introspect()).json()).toEqual({ active: false });
  });

  it('refuses a scope the client was not registered for', async () => {
    const res = await token({ scope: 'admin' });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: 'invalid_scope', error_description: 'scope not allowed for this client: admin' });
  });

  it('refuses a resource the client may not use', async () => {
    const res = await token({ resource: 'https://elsewhere.example' });
    expect(res.status).toBe(400);
    expect((await res.json()).error).toBe('invalid_target');
  });

  it('does not let another client revoke the token, and answers it as for an unknown token (200)', async () => {
    const { access_token } = await (await token({})).json();
    const res = await postForm(`${server.url}/oauth2/revoke`, { token: access_token }, { authorization: basicAuth(rs.client_id, rs.client_secret) });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('');
    const introspected = await postForm(`${server.url}/oauth2/introspect`, { token: access_token }, { authorization: basicAuth(rs.client_id, rs.client_secret) });
    expect(await introspected.json()).toMatchObject({ active: true });
  });
});

describe('introspection of tokens that are not active', () => {
  it.each(['garbage', 'tsr_at_' + 'A'.repeat(43), 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.', 'a.b.c'])('%s is exactly {"active":false}', async (t) => {
    const rs = await registerClient(server.url);
    const res = await postForm(`${server.url}/oauth2/introspect`, { token: t }, { authorization: basicAuth(rs.client_id, rs.client_secret) });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ active: false });
  });

  it('revoking an unknown token answers 200', async () => {
    const rs = await registerClient(server.url);
    const res = await postForm(`${server.url}/oauth2/revoke`, { token: 'never-issued' }, { authorization: basicAuth(rs.client_id, rs.client_secret) });
    expect(res.status).toBe(200);
  });
});

describe('registration (RFC 7591)', () => {
  it('returns the secret once and the metadata', async () => {
    const res = await fetch(`${server.url}/oauth2/register`, {
      method: 'POST',
      headers: { authorization: `Bearer ${INITIAL_ACCESS_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ client_name: 'svc', scope: 'a b', access_token_format: 'jwt', access_token_lifetime: 600, unknown_member: true }),
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = await res.json();
    expect(body).toEqual({
      client_id: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/),
      client_secret: expect.stringMatching(/^tsr_cs_[A-Za-z0-9_-]{43}$/),
      client_secret_expires_at: 0,
      client_id_issued_at: expect.any(Number),
      client_name: 'svc',
      grant_types: ['client_credentials'],
      token_endpoint_auth_method: 'client_secret_basic',
      scope: 'a b',
      access_token_format: 'jwt',
      access_token_lifetime: 600,
      // RFC 7592 (client-management.int-spec.ts).
      registration_access_token: expect.stringMatching(/^tsr_rat_[A-Za-z0-9_-]{43}$/),
      registration_client_uri: `${server.url}/oauth2/register/${body.client_id}`,
    });
  });

  it.each([undefined, 'Bearer wrong-token', `Basic ${INITIAL_ACCESS_TOKEN}`])('refuses authorization %j with 401', async (authorization) => {
    const res = await fetch(`${server.url}/oauth2/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
      body: '{}',
    });
    expect(res.status).toBe(401);
    // A token that is there but wrong is named in the challenge; no bearer token at all is not (RFC 6750 §3.1).
    if (authorization?.startsWith('Bearer ')) expect(res.headers.get('www-authenticate')).toMatch(/^Bearer realm="tessera", error="invalid_token"/);
    else expect(res.headers.get('www-authenticate')).toBe('Bearer realm="tessera"');
    expect((await res.json()).error).toBe('invalid_token');
  });

  it('refuses invalid metadata', async () => {
    const res = await fetch(`${server.url}/oauth2/register`, {
      method: 'POST',
      headers: { authorization: `Bearer ${INITIAL_ACCESS_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ grant_types: ['password'] }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: 'invalid_client_metadata', error_description: 'grant_types: "password" is not supported' });
  });
});

describe('discovery and JWKS', () => {
  it('lists exactly what is enabled, at the RFC 8414 well-known path', async () => {
    {
      const res = await fetch(`${server.url}/.well-known/oauth-authorization-server`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({
        issuer: server.url,
        authorization_endpoint: `${server.url}/oauth2/authorize`,
        token_endpoint: `${server.url}/oauth2/token`,
        jwks_uri: `${server.url}/.well-known/jwks.json`,
        registration_endpoint: `${server.url}/oauth2/register`,
        response_types_supported: ['code'],
        response_modes_supported: ['query'],
        authorization_response_iss_parameter_supported: true,
        grant_types_supported: ['client_credentials', 'authorization_code', 'refresh_token'],
        token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
        code_challenge_methods_supported: ['S256'],
        revocation_endpoint: `${server.url}/oauth2/revoke`,
        revocation_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
        introspection_endpoint: `${server.url}/oauth2/introspect`,
        introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
        revocation_feed_endpoint: `${server.url}/oauth2/revocations`,
        access_token_signing_alg_values_supported: ['ES256'],
      });
    }
  });

  it('publishes the public signing key with cache headers', async () => {
    const res = await fetch(`${server.url}/.well-known/jwks.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('public, max-age=300');
    const { keys } = await res.json();
    expect(keys).toHaveLength(1);
    expect(keys[0]).toEqual({ kty: 'EC', crv: 'P-256', x: expect.any(String), y: expect.any(String), kid: expect.any(String), alg: 'ES256', use: 'sig' });
  });
});

describe('health', () => {
  it('is live and ready', async () => {
    expect(await (await fetch(`${server.url}/health/live`)).json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${server.url}/health/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ok', checks: { database: 'up' } });
  });
});

describe('CORS, for single-page apps', () => {
  const ORIGIN = 'https://spa.example';

  it('lets any origin call the metadata, keys, token and revocation endpoints, without credentials', async () => {
    for (const path of ['/oauth2/token', '/oauth2/revoke']) {
      const preflight = await fetch(`${server.url}${path}`, {
        method: 'OPTIONS',
        headers: { origin: ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
      });
      expect(preflight.status).toBe(204);
      expect(Object.fromEntries([...preflight.headers].filter(([n]) => n.startsWith('access-control-')))).toEqual({
        'access-control-allow-origin': '*',
        'access-control-allow-methods': 'GET, POST',
        'access-control-allow-headers': 'authorization, content-type',
        'access-control-expose-headers': 'www-authenticate',
        'access-control-max-age': '600',
      });
    }
    // Errors too, so that the app can read them.
    const refused = await postForm(`${server.url}/oauth2/token`, { grant_type: 'client_credentials' }, { origin: ORIGIN, authorization: basicAuth('nobody', 'x') });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('access-control-allow-origin')).toBe('*');
    expect(refused.headers.get('access-control-allow-credentials')).toBeNull();
    expect(refused.headers.get('access-control-expose-headers')).toBe('www-authenticate');
    for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/jwks.json']) {
      expect((await fetch(`${server.url}${path}`, { headers: { origin: ORIGIN } })).headers.get('access-control-allow-origin')).toBe('*');
    }
  });

  it('keeps introspection, registration, the revocation feed and the sign-in pages same-origin', async () => {
    const c = await registerClient(server.url);
    const introspected = await postForm(`${server.url}/oauth2/introspect`, { token: 'x' }, { origin: ORIGIN, authorization: basicAuth(c.client_id, c.client_secret) });
    expect(introspected.status).toBe(200);
    expect(introspected.headers.get('access-control-allow-origin')).toBeNull();
    for (const path of ['/oauth2/introspect', '/oauth2/register', '/oauth2/revocations', '/login', '/oauth2/authorize']) {
      const preflight = await fetch(`${server.url}${path}`, { method: 'OPTIONS', headers: { origin: ORIGIN, 'access-control-request-method': 'POST' } });
      expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
      expect((await fetch(`${server.url}${path}`, { headers: { origin: ORIGIN } })).headers.get('access-control-allow-origin')).toBeNull();
    }
  });
});

describe('token formats required by resources (TESSERA_RESOURCE_TOKEN_FORMATS)', () => {
  const FAST = 'https://fast.example';
  const SAFE = 'https://safe.example';
  let overriding: RunningAuthServer;
  beforeAll(async () => {
    overriding = await startAuthServer({ env: { TESSERA_RESOURCE_TOKEN_FORMATS: JSON.stringify({ [FAST]: 'jwt', [SAFE]: 'opaque' }) } });
  });
  afterAll(() => overriding.stop());

  it("issues the format the resource requires, whatever the client's, and refuses a mix", async () => {
    const opaqueClient = await registerClient(overriding.url, { access_token_format: 'opaque' });
    const jwtClient = await registerClient(overriding.url, { access_token_format: 'jwt' });
    const tokenFor = async (c: { client_id: string; client_secret: string }, resources: string[]) => {
      const body = new URLSearchParams({ grant_type: 'client_credentials' });
      for (const r of resources) body.append('resource', r);
      return postForm(`${overriding.url}/oauth2/token`, body.toString(), { authorization: basicAuth(c.client_id, c.client_secret) });
    };
    expect((await (await tokenFor(opaqueClient, [FAST])).json()).access_token).toMatch(/^ey[\w-]+\.[\w-]+\.[\w-]+$/);
    expect((await (await tokenFor(jwtClient, [SAFE])).json()).access_token).toMatch(/^tsr_at_/);
    expect((await (await tokenFor(opaqueClient, ['https://other.example'])).json()).access_token).toMatch(/^tsr_at_/);
    const mixed = await tokenFor(jwtClient, [FAST, SAFE]);
    expect(mixed.status).toBe(400);
    expect(await mixed.json()).toEqual({ error: 'invalid_target', error_description: 'these resources require different access token formats; request a token for each' });
  });
});
