// RFC 7592 client management: the client configuration endpoint (GET, PUT, DELETE /oauth2/register/:client_id)
// with the registration access token a registration returns, on real PostgreSQL.
import { feedPseudonym, hashToken, parseClientMetadata } from '@tessera/oauth-core';
import pg from 'pg';
import { basicAuth, INITIAL_ACCESS_TOKEN, postForm, registerClient, startAuthServer, type RunningAuthServer } from './auth-server.harness.js';

let server: RunningAuthServer;
const API = 'https://api.example';
/** A resource server, to introspect and to read the revocation feed. */
let rs: { client_id: string; client_secret: string };

beforeAll(async () => {
  server = await startAuthServer();
  rs = await registerClient(server.url, { client_name: 'resource server', scope: '', resource_server_for: [API] });
});
afterAll(() => server.stop());

type Registered = { client_id: string; client_secret: string; registration_access_token: string; registration_client_uri: string } & Record<string, unknown>;
const register = (metadata: Record<string, unknown> = {}) => registerClient(server.url, metadata) as Promise<Registered>;
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

function configuration(c: Pick<Registered, 'client_id'>, init: { method?: string; headers?: Record<string, string>; body?: unknown } = {}) {
  const body = init.body === undefined ? undefined : typeof init.body === 'string' ? init.body : JSON.stringify(init.body);
  return fetch(`${server.url}/oauth2/register/${c.client_id}`, {
    method: init.method ?? 'GET',
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...init.headers },
    body,
  });
}
const read = (c: Registered, token = c.registration_access_token) => configuration(c, { headers: bearer(token) });
const put = (c: Registered, body: unknown, token = c.registration_access_token) => configuration(c, { method: 'PUT', headers: bearer(token), body });
const del = (c: Registered, token = c.registration_access_token) => configuration(c, { method: 'DELETE', headers: bearer(token) });

async function expectError(res: Response, status: number, error: string, description: string) {
  expect({ status: res.status, body: await res.json() }).toEqual({ status, body: { error, error_description: description } });
  expect(res.headers.get('cache-control')).toBe('no-store');
}
async function expectInvalidToken(res: Response, description = 'the registration access token is not valid for this client') {
  expect(res.headers.get('www-authenticate')).toBe(`Bearer realm="tessera", error="invalid_token", error_description="${description}"`);
  await expectError(res, 401, 'invalid_token', description);
}
/** No bearer token at all: RFC 6750 §3.1's challenge names no error. */
async function expectMissingToken(res: Response) {
  expect(res.headers.get('www-authenticate')).toBe('Bearer realm="tessera"');
  await expectError(res, 401, 'invalid_token', 'a registration access token is required');
}

const token = (c: { client_id: string; client_secret: string }, scope?: string) =>
  postForm(`${server.url}/oauth2/token`, { grant_type: 'client_credentials', ...(scope ? { scope } : {}) }, { authorization: basicAuth(c.client_id, c.client_secret) });
const introspect = async (accessToken: string) =>
  (await postForm(`${server.url}/oauth2/introspect`, { token: accessToken }, { authorization: basicAuth(rs.client_id, rs.client_secret) })).json();

async function query<T = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: server.databaseUrl });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}

describe('registration (RFC 7591) with RFC 7592 management', () => {
  it('returns a registration access token and the client configuration endpoint; only the token\'s hash is stored', async () => {
    const c = await register({ client_name: 'svc', scope: 'read write', access_token_format: 'jwt' });
    expect(c).toEqual({
      client_id: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/),
      client_secret: expect.stringMatching(/^tsr_cs_[A-Za-z0-9_-]{43}$/),
      client_secret_expires_at: 0,
      client_id_issued_at: expect.any(Number),
      client_name: 'svc',
      grant_types: ['client_credentials'],
      token_endpoint_auth_method: 'client_secret_basic',
      scope: 'read write',
      access_token_format: 'jwt',
      registration_access_token: expect.stringMatching(/^tsr_rat_[A-Za-z0-9_-]{43}$/),
      registration_client_uri: `${server.url}/oauth2/register/${c.client_id}`,
    });
    const [row] = await query<{ registration_access_token_hash: string }>('SELECT registration_access_token_hash FROM clients WHERE client_id = $1', [c.client_id]);
    expect(row.registration_access_token_hash).toBe(hashToken(c.registration_access_token));
    const everything = JSON.stringify(await query('SELECT * FROM clients'));
    expect(everything).not.toContain(c.registration_access_token);
  });

  it('advertises only the registration endpoint in discovery (RFC 8414 has no member for RFC 7592)', async () => {
    const metadata = await (await fetch(`${server.url}/.well-known/oauth-authorization-server`)).json();
    expect(metadata.registration_endpoint).toBe(`${server.url}/oauth2/register`);
    expect(Object.keys(metadata).filter((k) => /client_configuration|registration_client|7592/.test(k))).toEqual([]);
  });
});

describe('GET: read the client (RFC 7592 §2.1)', () => {
  it('answers 200 with the current metadata, the token and the URI, but no client_secret (only its hash is kept)', async () => {
    const c = await register({ client_name: 'reader', scope: 'read', access_token_lifetime: 600, resources: [API] });
    const res = await read(c);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('pragma')).toBe('no-cache');
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({
      client_id: c.client_id,
      client_id_issued_at: c.client_id_issued_at,
      client_name: 'reader',
      grant_types: ['client_credentials'],
      token_endpoint_auth_method: 'client_secret_basic',
      scope: 'read',
      access_token_format: 'opaque',
      access_token_lifetime: 600,
      resources: [API],
      registration_access_token: c.registration_access_token,
      registration_client_uri: c.registration_client_uri,
    });
    // Not rotated by a read: the same token works again.
    expect((await read(c)).status).toBe(200);
  });

  it.each([
    ['no Authorization header', undefined, null],
    ['an empty bearer token', 'Bearer ', null],
    ['the Basic scheme', 'Basic dXNlcjpwYXNz', null],
    ['a bearer token with a space', 'Bearer a b', 'a registration access token is required'],
    ['a wrong token', 'Bearer tsr_rat_wrong', undefined],
    ['the initial access token', `Bearer ${INITIAL_ACCESS_TOKEN}`, undefined],
  ])('refuses %s with 401 invalid_token and a Bearer challenge', async (_, authorization, description) => {
    const c = await register();
    const res = await configuration(c, { headers: authorization === undefined ? {} : { authorization } });
    // null: no bearer token at all, answered with a challenge that names no error (RFC 6750 §3.1).
    if (description === null) await expectMissingToken(res);
    else await expectInvalidToken(res, description);
  });

  it("refuses another client's token, and leaves that token working for its own client", async () => {
    const mine = await register();
    const theirs = await register();
    await expectInvalidToken(await read(mine, theirs.registration_access_token));
    expect((await read(theirs)).status).toBe(200);
  });

  it('refuses an unknown client, and client ids that cannot be one, never with a 5xx', async () => {
    const c = await register();
    for (const id of ['no-such-client', '%00', 'a%00b', 'x'.repeat(65), '%C3%A9', '..%2F..%2Fetc']) {
      const res = await configuration({ client_id: id }, { headers: bearer(c.registration_access_token) });
      expect({ id, status: res.status }).toEqual({ id, status: 401 });
      await expectInvalidToken(res);
    }
    // Not even UTF-8: the request is malformed before any client is looked for.
    const res = await configuration({ client_id: '%FF' }, { headers: bearer(c.registration_access_token) });
    expect({ status: res.status, body: await res.json() }).toEqual({ status: 400, body: { error: 'invalid_request', error_description: 'malformed request' } });
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it('refuses a client made by the operator CLI (it has no registration access token)', async () => {
    const metadata = parseClientMetadata({ client_name: 'cli', scope: 'read' }, { grantTypes: ['client_credentials'], maxAccessTokenTtl: 3600 });
    const { client, registrationAccessToken } = await server.services.registrar.register(metadata);
    expect(registrationAccessToken).toBeNull();
    const res = await configuration({ client_id: client.clientId }, { headers: bearer('tsr_rat_anything') });
    await expectInvalidToken(res);
  });

  it('refuses a disabled client, and answers again once it is enabled', async () => {
    const c = await register();
    await server.services.registrar.disable(c.client_id);
    await expectInvalidToken(await read(c));
    await server.services.registrar.enable(c.client_id);
    expect((await read(c)).status).toBe(200);
  });
});

describe('PUT: update the client (RFC 7592 §2.2)', () => {
  it('replaces the metadata: members left out take their defaults; the token endpoint follows at once', async () => {
    const c = await register({ client_name: 'before', scope: 'read write', access_token_format: 'jwt', access_token_lifetime: 600, resources: [API] });
    // Issued before the update: cached by the server, which must see the change.
    expect((await token(c, 'write')).status).toBe(200);
    const res = await put(c, { client_id: c.client_id, scope: 'read', resources: [API] });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = {
      client_id: c.client_id,
      client_id_issued_at: c.client_id_issued_at,
      grant_types: ['client_credentials'],
      token_endpoint_auth_method: 'client_secret_basic',
      scope: 'read',
      access_token_format: 'opaque',
      resources: [API],
      registration_access_token: c.registration_access_token,
      registration_client_uri: c.registration_client_uri,
    };
    expect(await res.json()).toEqual(body);
    expect(await (await read(c)).json()).toEqual(body);
    // Same secret as before; the new scope and format apply.
    await expectError(await token(c, 'write'), 400, 'invalid_scope', 'scope not allowed for this client: write');
    const issued = await token(c, 'read');
    expect(issued.status).toBe(200);
    expect((await issued.json()).access_token).toMatch(/^tsr_at_/);
  });

  it('takes back the members the server set, when unchanged, and a matching client_secret', async () => {
    const c = await register({ scope: 'read' });
    const current = await (await read(c)).json();
    const res = await put(c, { ...current, client_secret: c.client_secret, client_secret_expires_at: 0, client_name: 'renamed' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ...current, client_name: 'renamed' });
  });

  it.each([
    ['no client_id', {}, "client_id must be given, and be this client's client_id"],
    ['another client_id', { client_id: 'someone-else' }, "client_id must be given, and be this client's client_id"],
    ['a wrong client_secret', { client_secret: 'tsr_cs_guess' }, 'client_secret does not match the current client secret (a client cannot choose its secret)'],
    ['a client_secret that is no string', { client_secret: 42 }, 'client_secret does not match the current client secret (a client cannot choose its secret)'],
    ['another registration access token', { registration_access_token: 'tsr_rat_mine' }, 'registration_access_token is set by the server and cannot be changed'],
    ['another registration_client_uri', { registration_client_uri: 'https://evil.example/' }, 'registration_client_uri is set by the server and cannot be changed'],
    ['another client_id_issued_at', { client_id_issued_at: 1 }, 'client_id_issued_at is set by the server and cannot be changed'],
    ['a client_secret_expires_at', { client_secret_expires_at: 99 }, 'client_secret_expires_at is set by the server and cannot be changed'],
    ['the resource-server role', { resource_server_for: [API] }, 'resource_server_for is given by the operator and cannot be changed here'],
    ['an unsupported grant', { grant_types: ['password'] }, 'grant_types: "password" is not supported'],
    ['a bad lifetime', { access_token_lifetime: 'long' }, 'access_token_lifetime must be a whole number of seconds from 60 to 86400'],
    ['a bad scope', { scope: 42 }, 'scope must be a string'],
  ])('refuses %s with 400 invalid_client_metadata and changes nothing', async (_, members, description) => {
    const c = await register({ client_name: 'unchanged', scope: 'read' });
    const before = await (await read(c)).json();
    const withId = 'client_id' in members || Object.keys(members).length === 0 ? members : { client_id: c.client_id, ...members };
    await expectError(await put(c, withId), 400, 'invalid_client_metadata', description);
    expect(await (await read(c)).json()).toEqual(before);
  });

  it('refuses a bad redirect URI with 400 invalid_redirect_uri', async () => {
    const c = await register({ redirect_uris: ['https://app.example/cb'] });
    await expectError(
      await put(c, { client_id: c.client_id, redirect_uris: ['http://app.example/cb'] }),
      400,
      'invalid_redirect_uri',
      'redirect_uris[0] must be an absolute URI (RFC 3986), https (or http on a loopback address), with no userinfo, wildcard or fragment',
    );
    await expectError(await put(c, { client_id: c.client_id, grant_types: ['authorization_code'] }), 400, 'invalid_redirect_uri', 'redirect_uris is required for the authorization_code grant');
  });

  it('refuses a body that is no JSON object with 400, never a 5xx', async () => {
    const c = await register();
    for (const body of ['[]', 'null', '"text"', '42']) {
      await expectError(await put(c, body), 400, 'invalid_client_metadata', 'the request body must be a JSON object');
    }
    await expectError(await put(c, '{"client_id":'), 400, 'invalid_request', 'the request body could not be parsed');
    const form = await configuration(c, { method: 'PUT', headers: { ...bearer(c.registration_access_token), 'content-type': 'application/x-www-form-urlencoded' }, body: 'client_id=x' });
    await expectError(form, 400, 'invalid_request', 'the request body must be application/json');
    const none = await fetch(c.registration_client_uri, { method: 'PUT', headers: bearer(c.registration_access_token) });
    await expectError(none, 400, 'invalid_request', 'the request body must be application/json');
  });

  it('checks the token before the body', async () => {
    const c = await register();
    await expectInvalidToken(await put(c, '[]', 'tsr_rat_wrong'));
  });

  it('keeps the resource-server role when left out', async () => {
    const server2 = await register({ client_name: 'api', scope: '', resource_server_for: [API] });
    const res = await put(server2, { client_id: server2.client_id, client_name: 'api v2' });
    expect(await res.json()).toMatchObject({ client_name: 'api v2', resource_server_for: [API] });
    const feed = await fetch(`${server.url}/oauth2/revocations?limit=1`, { headers: { authorization: basicAuth(server2.client_id, server2.client_secret) } });
    expect(feed.status).toBe(200);
  });

  it('gives a public client that becomes confidential a new secret, once; a client that becomes public loses its secret', async () => {
    const spa = await register({ token_endpoint_auth_method: 'none', redirect_uris: ['http://127.0.0.1:9/cb'] });
    expect(spa).not.toHaveProperty('client_secret');
    const confidential = await put(spa, { client_id: spa.client_id, redirect_uris: ['http://127.0.0.1:9/cb'], grant_types: ['authorization_code'] });
    expect(confidential.status).toBe(200);
    const body = await confidential.json();
    expect(body).toMatchObject({ token_endpoint_auth_method: 'client_secret_basic', client_secret: expect.stringMatching(/^tsr_cs_/), client_secret_expires_at: 0 });
    expect(await (await read(spa)).json()).not.toHaveProperty('client_secret');

    const c = await register({ scope: 'read', grant_types: ['authorization_code', 'refresh_token'], redirect_uris: ['http://127.0.0.1:9/cb'] });
    const res = await put(c, { client_id: c.client_id, scope: 'read', token_endpoint_auth_method: 'none', redirect_uris: ['http://127.0.0.1:9/cb'] });
    expect(await res.json()).toMatchObject({ token_endpoint_auth_method: 'none', grant_types: ['authorization_code'] });
    expect(await query('SELECT secret_hash FROM clients WHERE client_id = $1', [c.client_id])).toEqual([{ secret_hash: null }]);
    await expectError(await token(c), 401, 'invalid_client', 'client authentication failed');
  });

  it("narrows what the client may ask for, never widens it: scope, grant_types and resources stay within the current ones", async () => {
    const c = await register({ scope: 'read', resources: [API] });
    const widen = async (metadata: Record<string, unknown>, description: string) =>
      expectError(await put(c, { client_id: c.client_id, scope: 'read', resources: [API], ...metadata }), 400, 'invalid_client_metadata', description);
    await widen({ scope: 'read admin' }, "scope cannot be widened here: admin is not among the client's current scope");
    await widen({ grant_types: ['client_credentials', 'authorization_code'], redirect_uris: ['http://127.0.0.1:9/cb'] }, "grant_types cannot be widened here: authorization_code is not among the client's current grant_types");
    await widen({ resources: [API, 'https://other.example'] }, "resources cannot be widened here: https://other.example is not among the client's current resources");
    await widen({ resources: undefined }, 'resources cannot be widened here: the client is limited to its current resources');
    // Unchanged by the refusals; narrowing is fine.
    expect(await (await read(c)).json()).toMatchObject({ scope: 'read', resources: [API] });
    expect((await put(c, { client_id: c.client_id, scope: '', resources: [API] })).status).toBe(200);
  });
});

describe('DELETE: delete the client (RFC 7592 §2.3)', () => {
  it.each(['opaque', 'jwt'] as const)(
    'answers 204; the client can no longer authenticate or be managed, and its %s tokens are revoked, in the feed too',
    async (format) => {
      const c = await register({ scope: 'read', access_token_format: format, resources: [API] });
      const issued = (await (await token(c, 'read')).json()).access_token as string;
      expect(await introspect(issued)).toMatchObject({ active: true, client_id: c.client_id });
      const feedKey = (await (await fetch(`${server.url}/oauth2/revocations?limit=1`, { headers: { authorization: basicAuth(rs.client_id, rs.client_secret) } })).json())
        .pseudonym_key as string;

      const res = await del(c);
      expect(res.status).toBe(204);
      expect(await res.text()).toBe('');
      expect(res.headers.get('cache-control')).toBe('no-store');

      expect(await introspect(issued)).toEqual({ active: false });
      await expectError(await token(c), 401, 'invalid_client', 'client authentication failed');
      await expectInvalidToken(await read(c));
      await expectInvalidToken(await put(c, { client_id: c.client_id }));
      await expectInvalidToken(await del(c));
      // The token is dropped with the client (§2.1: "SHOULD be immediately revoked").
      const [row] = await query('SELECT registration_access_token_hash, secret_hash, disabled_at, deleted_at FROM clients WHERE client_id = $1', [c.client_id]);
      expect(row).toEqual({ registration_access_token_hash: null, secret_hash: null, disabled_at: expect.any(Date), deleted_at: expect.any(Date) });

      const feed = await (await fetch(`${server.url}/oauth2/revocations?after=0&limit=1000`, { headers: { authorization: basicAuth(rs.client_id, rs.client_secret) } })).json();
      expect(feed.revocations).toContainEqual({
        seq: expect.any(String),
        type: 'issued_before',
        client: feedPseudonym(feedKey, 'client', c.client_id),
        iat_before: expect.any(Number),
        exp: expect.any(Number),
      });
      // The operator cannot bring it back.
      await expect(server.services.registrar.enable(c.client_id)).rejects.toThrow(`client ${c.client_id} was deleted; it cannot be enabled again`);
    },
  );

  it('refuses without a valid token, and deletes nothing', async () => {
    const c = await register();
    await expectMissingToken(await configuration(c, { method: 'DELETE' }));
    await expectInvalidToken(await del(c, 'tsr_rat_wrong'));
    expect((await token(c)).status).toBe(200);
  });

  it('answers 404 for methods the endpoint does not have', async () => {
    const c = await register();
    const res = await configuration(c, { method: 'POST', headers: bearer(c.registration_access_token), body: {} });
    expect(res.status).toBe(404);
  });
});
