import { LogCapture } from '@tessera/logging';
import { FixedClock } from '@tessera/oauth-core';
import { Purger } from '../src/maintenance/purger.js';
import { basicAuth, postForm, registerClient, startAuthServer, type RunningAuthServer } from './auth-server.harness.js';

const logs = new LogCapture();
let server: RunningAuthServer;
beforeAll(async () => {
  server = await startAuthServer({ logs });
});
afterAll(() => server.stop());

const requestLines = () => logs.lines.filter((l) => l.msg === 'request');

describe('the request log', () => {
  it('writes one JSON line per request: id, method, route pattern, status, duration and the authenticated client', async () => {
    const client = await registerClient(server.url);
    logs.clear();
    const res = await postForm(`${server.url}/oauth2/token`, { grant_type: 'client_credentials' }, { authorization: basicAuth(client.client_id, client.client_secret) });
    expect(res.status).toBe(200);
    const id = res.headers.get('x-request-id');
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(requestLines()).toEqual([
      {
        level: 'info',
        time: expect.any(String),
        app: 'auth-server',
        msg: 'request',
        req_id: id,
        method: 'POST',
        route: '/oauth2/token',
        status: 200,
        ms: expect.any(Number),
        client_id: client.client_id,
      },
    ]);
  });

  it('names the client on each endpoint it authenticated at, the revocation feed too, also when the request then failed', async () => {
    const client = await registerClient(server.url);
    const rs = await registerClient(server.url, { resource_server_for: ['https://api.logs.example'] });
    const auth = { authorization: basicAuth(client.client_id, client.client_secret) };
    logs.clear();
    expect((await postForm(`${server.url}/oauth2/introspect`, { token: 'tsr_at_unknown' }, auth)).status).toBe(200);
    expect((await postForm(`${server.url}/oauth2/revoke`, { token: 'tsr_at_unknown' }, auth)).status).toBe(200);
    expect((await postForm(`${server.url}/oauth2/token`, { grant_type: 'client_credentials', scope: 'not-allowed' }, auth)).status).toBe(400);
    expect((await fetch(`${server.url}/oauth2/revocations`, { headers: { authorization: basicAuth(rs.client_id, rs.client_secret) } })).status).toBe(200);
    expect((await fetch(`${server.url}/oauth2/revocations`, { headers: auth })).status).toBe(403);
    expect(requestLines().map((l) => [l.route, l.status, l.client_id])).toEqual([
      ['/oauth2/introspect', 200, client.client_id],
      ['/oauth2/revoke', 200, client.client_id],
      ['/oauth2/token', 400, client.client_id],
      ['/oauth2/revocations', 200, rs.client_id],
      ['/oauth2/revocations', 403, client.client_id],
    ]);
  });

  it('names no client when authentication failed, and keeps a safe incoming X-Request-Id', async () => {
    const client = await registerClient(server.url);
    logs.clear();
    const res = await postForm(`${server.url}/oauth2/token`, { grant_type: 'client_credentials' }, { authorization: basicAuth(client.client_id, 'wrong'), 'x-request-id': 'edge-42.a:b_c' });
    expect(res.status).toBe(401);
    expect(res.headers.get('x-request-id')).toBe('edge-42.a:b_c');
    const [line] = requestLines();
    expect(line).toMatchObject({ req_id: 'edge-42.a:b_c', route: '/oauth2/token', status: 401 });
    expect(line).not.toHaveProperty('client_id');
  });

  it('replaces an incoming X-Request-Id that is long or carries unsafe characters', async () => {
    for (const unsafe of ['a'.repeat(65), 'has space', 'quote"d', 'new\u2028line']) {
      logs.clear();
      const res = await fetch(`${server.url}/health/live`, { headers: { 'x-request-id': unsafe } }).catch(() => null);
      if (!res) continue; // fetch refuses some header values itself
      const id = res.headers.get('x-request-id');
      expect(id).not.toBe(unsafe);
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
      expect(requestLines()[0]).toMatchObject({ req_id: id, route: '/health/live', status: 200 });
    }
  });

  it('logs the route pattern, never the URL with its query', async () => {
    logs.clear();
    const res = await fetch(`${server.url}/oauth2/authorize?client_id=x&state=secret-state-value&code_challenge=abc`, { redirect: 'manual' });
    expect(res.status).toBe(400);
    const unknown = await fetch(`${server.url}/no/such/path?code=tsr_ac_secret`);
    expect(unknown.status).toBe(404);
    expect(requestLines().map((l) => [l.method, l.route, l.status])).toEqual([
      ['GET', '/oauth2/authorize', 400],
      ['GET', '(no route)', 404],
    ]);
    expect(logs.raw.join('\n')).not.toMatch(/secret-state-value|tsr_ac_secret/);
  });
});

describe('the request log of the RFC 7592 client configuration endpoint', () => {
  it('names the client once its registration access token is verified, and no client when it is not', async () => {
    const created = await registerClient(server.url, { client_name: 'configured' });
    const uri = `${server.url}/oauth2/register/${created.client_id}`;
    const rat = { authorization: `Bearer ${created.registration_access_token as string}` };
    logs.clear();
    expect((await fetch(uri, { headers: rat })).status).toBe(200);
    const put = await fetch(uri, { method: 'PUT', headers: { ...rat, 'content-type': 'application/json' }, body: JSON.stringify({ client_id: created.client_id, client_name: 'renamed' }) });
    expect(put.status).toBe(200);
    expect((await fetch(uri, { headers: { authorization: 'Bearer not-the-token' } })).status).toBe(401);
    expect((await fetch(uri, { method: 'DELETE', headers: rat })).status).toBe(204);
    expect(requestLines().map((l) => [l.method, l.route, l.status, l.client_id])).toEqual([
      ['GET', '/oauth2/register/:clientId', 200, created.client_id],
      ['PUT', '/oauth2/register/:clientId', 200, created.client_id],
      ['GET', '/oauth2/register/:clientId', 401, undefined],
      ['DELETE', '/oauth2/register/:clientId', 204, created.client_id],
    ]);
  });
});

describe('audit lines', () => {
  it('records a registration as client.created', async () => {
    logs.clear();
    const client = await registerClient(server.url, { client_name: 'audited' });
    expect(logs.matching({ event: 'client.created' })).toEqual([
      expect.objectContaining({ level: 'info', audit: true, msg: 'client.created', client_id: client.client_id, client_name: 'audited', resource_server_for: [], via: 'registration' }),
    ]);
  });

  it('records RFC 7592 changes: metadata replaced (with a secret issued), then the client deleted', async () => {
    const created = await registerClient(server.url, { client_name: 'managed', token_endpoint_auth_method: 'none', redirect_uris: ['https://app.example/cb'] });
    const token = created.registration_access_token as string;
    const rat = { authorization: `Bearer ${token}` };
    const uri = `${server.url}/oauth2/register/${created.client_id}`;
    logs.clear();
    const put = await fetch(uri, { method: 'PUT', headers: { ...rat, 'content-type': 'application/json' }, body: JSON.stringify({ client_id: created.client_id, client_name: 'managed', redirect_uris: ['https://app.example/cb'] }) });
    expect(put.status).toBe(200);
    expect((await fetch(uri, { method: 'DELETE', headers: rat })).status).toBe(204);
    expect(logs.lines.filter((l) => l.audit)).toEqual([
      expect.objectContaining({ msg: 'client.changed', client_id: created.client_id, change: 'metadata', secret_issued: true, secret_dropped: false, via: 'registration' }),
      expect.objectContaining({ msg: 'client.deleted', client_id: created.client_id, via: 'registration' }),
    ]);
    const secret = (await put.json()).client_secret as string;
    expect(JSON.stringify(logs.lines)).not.toContain(secret);
    expect(JSON.stringify(logs.lines)).not.toContain(token);
  });
});

describe("Nest's start-up narration", () => {
  it('is at debug: none of it at the default level, every route mapping at debug', async () => {
    const quiet = new LogCapture();
    const chatty = new LogCapture();
    const a = await startAuthServer({ logs: quiet, databaseUrl: server.databaseUrl });
    const b = await startAuthServer({ logs: chatty, databaseUrl: server.databaseUrl, env: { TESSERA_LOG_LEVEL: 'debug' } });
    try {
      const narrated = (c: LogCapture) => c.lines.filter((l) => ['InstanceLoader', 'RoutesResolver', 'RouterExplorer', 'NestApplication'].includes(l.context as string));
      expect(narrated(quiet)).toEqual([]);
      expect(narrated(chatty).filter((l) => l.context === 'RouterExplorer').length).toBeGreaterThan(5);
      expect(new Set(narrated(chatty).map((l) => l.level))).toEqual(new Set(['debug']));
    } finally {
      await a.stop();
      await b.stop();
    }
  });
});

describe('background work in the log', () => {
  // The clock stands still unless moved; rate-limit counts are flushed when the test says so.
  const clock = new FixedClock(new Date());
  const background = new LogCapture();
  let cut: RunningAuthServer;
  beforeAll(async () => {
    cut = await startAuthServer({
      logs: background,
      proxy: true,
      clock,
      env: { TESSERA_RATE_LIMIT_WINDOW: '86400', TESSERA_RATE_LIMIT_FLUSH_INTERVAL: '3600', TESSERA_REVOCATION_PURGE_INTERVAL: '86400' },
    });
  });
  afterAll(() => cut.stop());

  const rateLimitLines = () => background.lines.filter((l) => l.context === 'AuthServer' && String(l.msg).startsWith('rate-limit counts'));

  it('summarises rate-limit counts that cannot be shared: the first failure, then a count per 10 s, then the recovery', async () => {
    const client = await registerClient(cut.url, { access_token_format: 'jwt' });
    const token = () => postForm(`${cut.url}/oauth2/token`, { grant_type: 'client_credentials' }, { authorization: basicAuth(client.client_id, client.client_secret) });
    const limiter = cut.services.rateLimiter!;
    await limiter.flush();
    expect((await token()).status).toBe(200);
    background.clear();
    await cut.proxy!.stop();
    try {
      for (let i = 0; i < 5; i++) await limiter.flush();
      expect(rateLimitLines()).toEqual([
        expect.objectContaining({ level: 'warn', msg: 'rate-limit counts could not be shared; limiting from this instance’s counts meanwhile', error: expect.stringMatching(/^(?!a thrown)(?!OAuthError)\S/) }),
      ]);
      clock.advance(11);
      await limiter.flush();
      expect(rateLimitLines().slice(1)).toEqual([
        expect.objectContaining({ level: 'warn', msg: expect.stringMatching(/^rate-limit counts not shared: 5 more failure\(s\), failing for 11 s \(latest: (?!temporarily_unavailable).+\)$/) }),
      ]);
    } finally {
      await cut.proxy!.start();
    }
    await limiter.flush();
    expect(rateLimitLines().slice(2)).toEqual([
      expect.objectContaining({ level: 'info', msg: 'rate-limit counts are shared again: recovered after 11 s and 6 failure(s)' }),
    ]);
    expect(rateLimitLines()).toHaveLength(3);
  });

  it('writes one line per purge that deleted anything, none for one that deleted nothing', async () => {
    const client = await registerClient(cut.url, { access_token_format: 'opaque' });
    for (let i = 0; i < 3; i++) {
      expect((await postForm(`${cut.url}/oauth2/token`, { grant_type: 'client_credentials' }, { authorization: basicAuth(client.client_id, client.client_secret) })).status).toBe(200);
    }
    clock.advance(2 * 86400);
    background.clear();
    expect(await cut.app.get(Purger).purge()).toMatchObject({ accessTokens: 3 });
    expect(await cut.app.get(Purger).purge()).toMatchObject({ accessTokens: 0 });
    expect(background.lines.filter((l) => l.context === 'Purger')).toEqual([
      expect.objectContaining({ level: 'info', msg: 'purged 3 row(s): 3 expired access tokens' }),
    ]);
  });
});
