// The sample resource server (notes behind TokenGuard) beside the real auth server, driven by oauth4webapi, for both token formats.
import * as oauth from 'oauth4webapi';
import { createTestDatabase, freePort, TcpProxy } from '@tessera/testing';
import pg from 'pg';
import { INITIAL_ACCESS_TOKEN, registerClient, startAuthServer, type RunningAuthServer } from '../apps/auth-server/test/auth-server.harness.js';
import { startResourceServer, type RunningResourceServer } from '../apps/resource-server/test/resource-server.harness.js';

const insecure = { [oauth.allowInsecureRequests]: true };
const ISO_DATE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

async function discover(server: RunningAuthServer): Promise<oauth.AuthorizationServer> {
  const issuer = new URL(server.url);
  return oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { ...insecure, algorithm: 'oauth2' }));
}

/** A client registered through RFC 7591 that gets its tokens through oauth4webapi (client credentials grant, RFC 8707 resource). */
async function aClient(server: RunningAuthServer, as: oauth.AuthorizationServer, metadata: Record<string, unknown>) {
  const registered = await registerClient(server.url, metadata);
  const client: oauth.Client = { client_id: registered.client_id };
  const auth = oauth.ClientSecretBasic(registered.client_secret);
  return {
    clientId: registered.client_id,
    async token(resource: string, scope?: string): Promise<string> {
      const params = { resource, ...(scope ? { scope } : {}) };
      const response = await oauth.clientCredentialsGrantRequest(as, client, auth, params, insecure);
      return (await oauth.processClientCredentialsResponse(as, client, response)).access_token;
    },
  };
}

/** One call to the notes API: status, the headers that matter, and the JSON body (null for none). */
async function call(base: string, token: string | null, method: string, path: string, body?: unknown) {
  const headers: Record<string, string> = {};
  if (token !== null) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${base}${path}`, { method, headers, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await res.text();
  return {
    status: res.status,
    body: text === '' ? null : JSON.parse(text),
    challenge: res.headers.get('www-authenticate'),
    location: res.headers.get('location'),
    cacheControl: res.headers.get('cache-control'),
  };
}

/** Polls /health/ready until 200: following the revocation feed, a resource server is ready once it has caught up. */
async function untilReady(rs: RunningResourceServer, withinMs = 10_000) {
  const start = performance.now();
  for (;;) {
    const ready = await call(rs.url, null, 'GET', '/health/ready');
    if (ready.status === 200) return ready;
    if (performance.now() - start > withinMs) throw new Error(`not ready within ${withinMs} ms: ${JSON.stringify(ready.body)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** client_id of every client named 'resource-server' in the auth server's database, oldest first. */
async function registeredResourceServers(auth: RunningAuthServer): Promise<string[]> {
  return authDb(auth, async (db) =>
    (await db.query(`SELECT client_id FROM clients WHERE client_name = 'resource-server' ORDER BY created_at, client_id`)).rows.map((r) => r.client_id),
  );
}

async function authDb<T>(auth: RunningAuthServer, work: (db: pg.Client) => Promise<T>): Promise<T> {
  const db = new pg.Client({ connectionString: auth.databaseUrl });
  await db.connect();
  try {
    return await work(db);
  } finally {
    await db.end();
  }
}

async function storedClient(rs: RunningResourceServer): Promise<{ issuer: string; client_id: string }[]> {
  const db = new pg.Client({ connectionString: rs.databaseUrl });
  await db.connect();
  try {
    return (await db.query('SELECT issuer, client_id FROM registered_clients')).rows;
  } finally {
    await db.end();
  }
}

describe('resource server beside the auth server', () => {
  let auth: RunningAuthServer;
  let as: oauth.AuthorizationServer;
  let rs: RunningResourceServer;

  beforeAll(async () => {
    auth = await startAuthServer();
    as = await discover(auth);
    // As npm start runs it: no client credentials, only the initial access token, so it registers itself.
    rs = await startResourceServer({ issuer: auth.url, env: { TESSERA_INITIAL_ACCESS_TOKEN: INITIAL_ACCESS_TOKEN } });
    await rs.credentials.settled;
    await untilReady(rs); // as a load balancer would
  });
  afterAll(async () => {
    await rs?.stop();
    await auth?.stop();
  });

  it('answers health checks without a token', async () => {
    expect(await call(rs.url, null, 'GET', '/health/live')).toMatchObject({ status: 200, body: { status: 'ok' }, cacheControl: 'no-store' });
    expect(await call(rs.url, null, 'GET', '/health/ready')).toMatchObject({ status: 200, body: { status: 'ok', checks: { database: 'up', revocation_feed: 'up' } } });
  });

  it('lets a browser app on any origin call the API with its bearer token (CORS, no credentials), and not the health routes', async () => {
    const preflight = await fetch(`${rs.url}/api/notes`, {
      method: 'OPTIONS',
      headers: { origin: 'https://spa.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
    expect(preflight.headers.get('access-control-allow-headers')).toBe('authorization, content-type');
    expect(preflight.headers.get('access-control-allow-credentials')).toBeNull();
    const refused = await fetch(`${rs.url}/api/notes`, { headers: { origin: 'https://spa.example' } });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('access-control-allow-origin')).toBe('*');
    // The app may read the RFC 6750 challenge.
    expect(refused.headers.get('access-control-expose-headers')).toBe('www-authenticate');
    expect((await fetch(`${rs.url}/health/live`, { headers: { origin: 'https://spa.example' } })).headers.get('access-control-allow-origin')).toBeNull();
  });

  describe.each(['opaque', 'jwt'] as const)('with %s access tokens', (format) => {
    let writer: Awaited<ReturnType<typeof aClient>>;
    let reader: Awaited<ReturnType<typeof aClient>>;
    let other: Awaited<ReturnType<typeof aClient>>;

    beforeAll(async () => {
      writer = await aClient(auth, as, { access_token_format: format, scope: 'notes:read notes:write' });
      reader = await aClient(auth, as, { access_token_format: format, scope: 'notes:read' });
      other = await aClient(auth, as, { access_token_format: format, scope: 'notes:read notes:write' });
    });

    it('issues the format asked for', async () => {
      const token = await writer.token(rs.url);
      expect(token.startsWith('tsr_at_')).toBe(format === 'opaque');
    });

    it('creates, lists, reads, updates, replaces and deletes a note', async () => {
      const token = await writer.token(rs.url, 'notes:read notes:write');

      const created = await call(rs.url, token, 'POST', '/api/notes', { title: 'Groceries', body: 'milk, eggs' });
      expect(created).toMatchObject({ status: 201, cacheControl: 'no-store' });
      expect(created.body).toEqual({ id: expect.stringMatching(UUID), title: 'Groceries', body: 'milk, eggs', created_at: expect.stringMatching(ISO_DATE), updated_at: expect.stringMatching(ISO_DATE) });
      const note = created.body;
      expect(created.location).toBe(`/api/notes/${note.id}`);

      expect(await call(rs.url, token, 'GET', '/api/notes')).toMatchObject({ status: 200, body: { notes: [note] } });
      expect(await call(rs.url, token, 'GET', `/api/notes/${note.id}`)).toMatchObject({ status: 200, body: note });

      const patched = await call(rs.url, token, 'PATCH', `/api/notes/${note.id}`, { body: 'milk, eggs, bread' });
      expect(patched.status).toBe(200);
      expect(patched.body).toEqual({ ...note, body: 'milk, eggs, bread', updated_at: expect.stringMatching(ISO_DATE) });
      expect(Date.parse(patched.body.updated_at)).toBeGreaterThanOrEqual(Date.parse(note.updated_at));

      const replaced = await call(rs.url, token, 'PUT', `/api/notes/${note.id}`, { title: 'Shopping' });
      expect(replaced.status).toBe(200);
      expect(replaced.body).toEqual({ ...note, title: 'Shopping', body: '', updated_at: expect.stringMatching(ISO_DATE) });
      expect(await call(rs.url, token, 'GET', `/api/notes/${note.id}`)).toMatchObject({ status: 200, body: replaced.body });

      expect(await call(rs.url, token, 'DELETE', `/api/notes/${note.id}`)).toMatchObject({ status: 204, body: null });
      expect(await call(rs.url, token, 'GET', `/api/notes/${note.id}`)).toMatchObject({ status: 404, body: { error: 'not_found', error_description: 'no such note' } });
      expect(await call(rs.url, token, 'DELETE', `/api/notes/${note.id}`)).toMatchObject({ status: 404, body: { error: 'not_found', error_description: 'no such note' } });
      expect(await call(rs.url, token, 'GET', '/api/notes')).toMatchObject({ status: 200, body: { notes: [] } });
    });

    it('lets a read-only token read but refuses its writes with 403 insufficient_scope', async () => {
      const token = await reader.token(rs.url);
      expect(await call(rs.url, token, 'GET', '/api/notes')).toMatchObject({ status: 200, body: { notes: [] } });
      const refusal = { error: 'insufficient_scope', error_description: 'the token lacks the required scope: notes:write' };
      const challenge = `Bearer realm="${rs.url}", error="insufficient_scope", scope="notes:write"`;
      for (const [method, path, body] of [
        ['POST', '/api/notes', { title: 'x' }],
        ['PATCH', '/api/notes/0f8fad5b-d9cb-469f-a165-70867728950e', { title: 'x' }],
        ['PUT', '/api/notes/0f8fad5b-d9cb-469f-a165-70867728950e', { title: 'x' }],
        ['DELETE', '/api/notes/0f8fad5b-d9cb-469f-a165-70867728950e', undefined],
      ] as const) {
        expect(await call(rs.url, token, method, path, body)).toMatchObject({ status: 403, body: refusal, challenge });
      }

      // The same refusal as oauth4webapi sees it.
      const error = await oauth
        .protectedResourceRequest(token, 'POST', new URL(`${rs.url}/api/notes`), new Headers({ 'content-type': 'application/json' }), '{"title":"x"}', insecure)
        .catch((e) => e);
      expect(error).toBeInstanceOf(oauth.WWWAuthenticateChallengeError);
      expect(error).toMatchObject({ status: 403, cause: [{ scheme: 'bearer', parameters: { realm: rs.url, error: 'insufficient_scope', scope: 'notes:write' } }] });
    });

    it('asks for a token with 401 when there is none, or it is not for this resource', async () => {
      expect(await call(rs.url, null, 'GET', '/api/notes')).toMatchObject({
        status: 401,
        body: { error: 'unauthorized', error_description: 'an access token is required' },
        challenge: `Bearer realm="${rs.url}"`,
        cacheControl: 'no-store',
      });
      expect(await call(rs.url, null, 'POST', '/api/notes', { title: 'x' })).toMatchObject({ status: 401, challenge: `Bearer realm="${rs.url}"` });

      // A JWT's audience is checked here; of an opaque token for another resource, the auth server tells this one nothing.
      const elsewhere = await writer.token('https://other-api.example');
      const description = format === 'jwt' ? 'unexpected audience' : 'token is not active';
      expect(await call(rs.url, elsewhere, 'GET', '/api/notes')).toMatchObject({
        status: 401,
        body: { error: 'invalid_token', error_description: description },
        challenge: `Bearer realm="${rs.url}", error="invalid_token", error_description="${description}"`,
      });
      expect(await call(rs.url, 'tsr_at_not-a-real-token', 'GET', '/api/notes')).toMatchObject({
        status: 401,
        body: { error: 'invalid_token', error_description: 'token is not active' },
      });
    });

    it('keeps each subject to its own notes', async () => {
      const mine = await writer.token(rs.url);
      const theirs = await other.token(rs.url);
      const { body: note } = await call(rs.url, mine, 'POST', '/api/notes', { title: `${format} secret` });

      expect(await call(rs.url, theirs, 'GET', '/api/notes')).toMatchObject({ status: 200, body: { notes: [] } });
      const notFound = { status: 404, body: { error: 'not_found', error_description: 'no such note' } };
      expect(await call(rs.url, theirs, 'GET', `/api/notes/${note.id}`)).toMatchObject(notFound);
      expect(await call(rs.url, theirs, 'PATCH', `/api/notes/${note.id}`, { title: 'mine now' })).toMatchObject(notFound);
      expect(await call(rs.url, theirs, 'PUT', `/api/notes/${note.id}`, { title: 'mine now' })).toMatchObject(notFound);
      expect(await call(rs.url, theirs, 'DELETE', `/api/notes/${note.id}`)).toMatchObject(notFound);

      expect(await call(rs.url, mine, 'GET', '/api/notes')).toMatchObject({ status: 200, body: { notes: [note] } });
      await call(rs.url, mine, 'DELETE', `/api/notes/${note.id}`);
    });

    it('refuses bad input with 400 and unknown notes with 404, never 500', async () => {
      const token = await writer.token(rs.url);
      const bad = (error_description: string) => ({ status: 400, body: { error: 'invalid_request', error_description } });
      expect(await call(rs.url, token, 'POST', '/api/notes', {})).toMatchObject(bad('title is required'));
      expect(await call(rs.url, token, 'POST', '/api/notes', { title: 'x'.repeat(201) })).toMatchObject(bad('title must be at most 200 characters'));
      expect(await call(rs.url, token, 'POST', '/api/notes', { title: 'x', body: 'y'.repeat(10_001) })).toMatchObject(bad('body must be at most 10000 characters'));
      expect(await call(rs.url, token, 'POST', '/api/notes', { title: 7 })).toMatchObject(bad('title must be a string'));
      expect(await call(rs.url, token, 'POST', '/api/notes', { title: 'x', owner: 'y' })).toMatchObject(bad('unknown field owner; a note has title and body'));
      expect(await call(rs.url, token, 'POST', '/api/notes', [])).toMatchObject(bad('the request body must be a JSON object'));
      expect(await call(rs.url, token, 'POST', '/api/notes', { title: 'nul \u0000' })).toMatchObject(bad('title contains characters that are not allowed'));
      expect(await call(rs.url, token, 'POST', '/api/notes', '{"title": ')).toMatchObject(bad('the request body is not valid JSON'));
      expect(await call(rs.url, token, 'POST', '/api/notes')).toMatchObject(bad('the request body must be a JSON object'));
      expect(await call(rs.url, token, 'GET', '/api/notes?limit=1000')).toMatchObject(bad('limit must be a whole number from 1 to 100'));

      const { body: note } = await call(rs.url, token, 'POST', '/api/notes', { title: 'kept' });
      expect(await call(rs.url, token, 'PATCH', `/api/notes/${note.id}`, {})).toMatchObject(bad('nothing to change: send title and/or body'));
      expect(await call(rs.url, token, 'PUT', `/api/notes/${note.id}`, { body: 'no title' })).toMatchObject(bad('title is required'));
      expect(await call(rs.url, token, 'GET', `/api/notes/${note.id}`)).toMatchObject({ status: 200, body: note });
      await call(rs.url, token, 'DELETE', `/api/notes/${note.id}`);

      const notFound = { status: 404, body: { error: 'not_found', error_description: 'no such note' } };
      expect(await call(rs.url, token, 'GET', '/api/notes/not-a-uuid')).toMatchObject(notFound);
      expect(await call(rs.url, token, 'PATCH', '/api/notes/0f8fad5b-d9cb-469f-a165-70867728950e', { title: 'x' })).toMatchObject(notFound);
      expect(await call(rs.url, token, 'GET', '/api/nothing-here')).toMatchObject({ status: 404, body: { error: 'not_found', error_description: 'no such endpoint' } });
    });
  });
});

describe('resource server introspection credentials', () => {
  let auth: RunningAuthServer;
  let as: oauth.AuthorizationServer;
  let opaqueClient: Awaited<ReturnType<typeof aClient>>;
  let jwtClient: Awaited<ReturnType<typeof aClient>>;
  const started: RunningResourceServer[] = [];
  const databases: { drop(): Promise<void> }[] = [];
  /** A resource server on `databaseUrl` (to restart one), or on a fresh database. */
  /** A resource server on `databaseUrl` (to restart one), or on a fresh database; on `port` to keep its resource identifier. */
  const start = async (env: Record<string, string>, databaseUrl?: string, port?: number) => {
    if (!databaseUrl) {
      const db = await createTestDatabase();
      databases.push(db);
      databaseUrl = db.url;
    }
    const rs = await startResourceServer({ issuer: auth.url, env, databaseUrl, port });
    started.push(rs);
    return rs;
  };
  const listNotes = async (rs: RunningResourceServer, client: typeof opaqueClient) =>
    call(rs.url, await client.token(rs.url, 'notes:read'), 'GET', '/api/notes');

  beforeAll(async () => {
    auth = await startAuthServer();
    as = await discover(auth);
    opaqueClient = await aClient(auth, as, { access_token_format: 'opaque', scope: 'notes:read' });
    jwtClient = await aClient(auth, as, { access_token_format: 'jwt', scope: 'notes:read' });
  });
  afterAll(async () => {
    for (const rs of started) await rs.close();
    for (const db of databases) await db.drop();
    await auth?.stop();
  });

  it('registers itself with the initial access token, stores the client, and reuses it after a restart', async () => {
    const first = await start({ TESSERA_INITIAL_ACCESS_TOKEN: INITIAL_ACCESS_TOKEN });
    const credentials = await first.credentials.settled;
    expect(await registeredResourceServers(auth)).toEqual([credentials!.clientId]);
    expect(await storedClient(first)).toEqual([{ issuer: auth.url, client_id: credentials!.clientId }]);
    expect(await listNotes(first, opaqueClient)).toMatchObject({ status: 200, body: { notes: [] } });
    await first.close();

    const second = await start({ TESSERA_INITIAL_ACCESS_TOKEN: INITIAL_ACCESS_TOKEN }, first.databaseUrl, Number(new URL(first.url).port));
    expect(await second.credentials.settled).toEqual(credentials);
    expect(await registeredResourceServers(auth)).toEqual([credentials!.clientId]); // no second registration
    expect(await listNotes(second, opaqueClient)).toMatchObject({ status: 200, body: { notes: [] } });
    await second.close();

    // The auth server forgets the client (its database was reset): the next start registers again.
    await authDb(auth, async (db) => {
      await db.query(`DELETE FROM clients WHERE client_id = $1`, [credentials!.clientId]);
      await db.query(`SELECT pg_notify('tessera_changes', 'all')`);
    });
    const third = await start({ TESSERA_INITIAL_ACCESS_TOKEN: INITIAL_ACCESS_TOKEN }, first.databaseUrl, Number(new URL(first.url).port));
    const renewed = await third.credentials.settled;
    expect(renewed!.clientId).not.toBe(credentials!.clientId);
    expect(await registeredResourceServers(auth)).toEqual([renewed!.clientId]);
    expect(await storedClient(third)).toEqual([{ issuer: auth.url, client_id: renewed!.clientId }]);
    expect(await listNotes(third, opaqueClient)).toMatchObject({ status: 200, body: { notes: [] } });
    await third.close();
  });

  it('registers as the resource server for its own resource identifier, and again when that changes or the stored client is no resource server', async () => {
    const first = await start({ TESSERA_INITIAL_ACCESS_TOKEN: INITIAL_ACCESS_TOKEN });
    const registered = (await first.credentials.settled)!;
    const metadata = await authDb(auth, async (db) =>
      (await db.query(`SELECT resource_server_for, scopes FROM clients WHERE client_id = $1`, [registered.clientId])).rows,
    );
    expect(metadata).toEqual([{ resource_server_for: [first.url], scopes: [] }]);
    await first.close();

    // Another resource identifier (another port here): the stored client serves the old one, so it registers anew.
    const moved = await start({ TESSERA_INITIAL_ACCESS_TOKEN: INITIAL_ACCESS_TOKEN }, first.databaseUrl);
    const renewed = (await moved.credentials.settled)!;
    expect(renewed.clientId).not.toBe(registered.clientId);
    expect(await storedClient(moved)).toEqual([{ issuer: auth.url, client_id: renewed.clientId }]);
    expect(await listNotes(moved, opaqueClient)).toMatchObject({ status: 200, body: { notes: [] } });
    await moved.close();

    // A client stored before the resource-server role existed (a plain confidential client): replaced too.
    const plain = await registerClient(auth.url, { client_name: 'resource-server', scope: '' });
    const db = new pg.Client({ connectionString: first.databaseUrl });
    await db.connect();
    await db.query(`UPDATE registered_clients SET client_id = $1, client_secret = $2`, [plain.client_id, plain.client_secret]);
    await db.end();
    const upgraded = await start({ TESSERA_INITIAL_ACCESS_TOKEN: INITIAL_ACCESS_TOKEN }, first.databaseUrl, Number(new URL(moved.url).port));
    const replaced = (await upgraded.credentials.settled)!;
    expect([plain.client_id, renewed.clientId]).not.toContain(replaced.clientId);
    expect(await listNotes(upgraded, opaqueClient)).toMatchObject({ status: 200, body: { notes: [] } });
    await upgraded.close();
  });

  it('uses configured credentials without registering or storing anything', async () => {
    const before = await registeredResourceServers(auth);
    const rsPort = await freePort();
    const own = await registerClient(auth.url, { client_name: 'notes api', scope: '', resource_server_for: [`http://127.0.0.1:${rsPort}`] });
    const rs = await start(
      { TESSERA_RESOURCE_CLIENT_ID: own.client_id, TESSERA_RESOURCE_CLIENT_SECRET: own.client_secret, TESSERA_INITIAL_ACCESS_TOKEN: INITIAL_ACCESS_TOKEN },
      undefined,
      rsPort,
    );
    expect(await rs.credentials.settled).toEqual({ clientId: own.client_id, clientSecret: own.client_secret });
    expect(await listNotes(rs, opaqueClient)).toMatchObject({ status: 200, body: { notes: [] } });
    expect(await registeredResourceServers(auth)).toEqual(before);
    expect(await storedClient(rs)).toEqual([]);
    await rs.close();
  });

  it('without credentials or an initial access token, accepts JWTs and refuses opaque tokens with 401', async () => {
    const rs = await start({});
    expect(await rs.credentials.settled).toBeNull();
    expect(await listNotes(rs, jwtClient)).toMatchObject({ status: 200, body: { notes: [] } });
    expect(await listNotes(rs, opaqueClient)).toMatchObject({
      status: 401,
      body: { error: 'invalid_token', error_description: 'opaque tokens are not accepted here' },
      challenge: `Bearer realm="${rs.url}", error="invalid_token", error_description="opaque tokens are not accepted here"`,
    });
    await rs.close();
  });
});

describe('resource server started before its auth server', () => {
  let auth: RunningAuthServer;
  let proxy: TcpProxy;
  let rs: RunningResourceServer;

  afterAll(async () => {
    await rs?.stop();
    await proxy?.stop();
    await auth?.stop();
  });

  it('starts at once, refuses what it cannot check yet, and registers once the auth server answers', async () => {
    // The auth server is reached at `issuer`: a forwarder that is not listening yet.
    const issuerPort = await freePort();
    const issuer = `http://127.0.0.1:${issuerPort}`;
    auth = await startAuthServer({ env: { TESSERA_ISSUER: issuer } });
    proxy = new TcpProxy({ host: '127.0.0.1', port: Number(new URL(auth.url).port) });
    proxy.port = issuerPort;

    rs = await startResourceServer({ issuer, env: { TESSERA_INITIAL_ACCESS_TOKEN: INITIAL_ACCESS_TOKEN } });
    // Up and answering, but not ready: it cannot follow the revocation feed until it reaches the auth server.
    expect(await call(rs.url, null, 'GET', '/health/ready')).toMatchObject({
      status: 503,
      body: { status: 'unavailable', checks: { database: 'up', revocation_feed: 'catching-up' } },
    });

    // Tokens straight from the auth server's token endpoint, for the issuer the resource server trusts.
    const as: oauth.AuthorizationServer = { issuer, token_endpoint: `${auth.url}/oauth2/token` };
    const opaque = await aClient(auth, as, { access_token_format: 'opaque', scope: 'notes:read' });
    const jwt = await aClient(auth, as, { access_token_format: 'jwt', scope: 'notes:read' });
    const opaqueToken = await opaque.token(rs.url);
    const jwtToken = await jwt.token(rs.url);
    // Not registered yet: its introspection credentials are still to come, so it cannot check opaque tokens.
    expect(await call(rs.url, opaqueToken, 'GET', '/api/notes')).toMatchObject({
      status: 503,
      body: { error: 'temporarily_unavailable' },
    });
    // Its keys and its revocation feed are out of reach: the auth server's trouble, not the caller's.
    expect(await call(rs.url, jwtToken, 'GET', '/api/notes')).toMatchObject({
      status: 503,
      body: { error: 'temporarily_unavailable', error_description: expect.any(String) },
    });

    await proxy.start();
    const credentials = await rs.credentials.settled;
    expect(await registeredResourceServers(auth)).toEqual([credentials!.clientId]);
    expect(await untilReady(rs)).toMatchObject({ body: { status: 'ok', checks: { database: 'up', revocation_feed: 'up' } } });
    expect(await call(rs.url, opaqueToken, 'GET', '/api/notes')).toMatchObject({ status: 200, body: { notes: [] } });
    expect(await call(rs.url, jwtToken, 'GET', '/api/notes')).toMatchObject({ status: 200, body: { notes: [] } });
  });
});
