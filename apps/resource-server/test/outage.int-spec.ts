// The resource server when its own database goes away: 503 with Retry-After (never a 500), not ready, and back by
// itself; its /metrics answers meanwhile, pool gauges included, and counts the outages.
import { basicAuth, postForm, registerClient, startAuthServer, type RunningAuthServer } from '../../auth-server/test/auth-server.harness.js';
import { createTestDatabase, parsePrometheusText, TcpProxy, type Scrape } from '@tessera/testing';
import { startResourceServer, type RunningResourceServer } from './resource-server.harness.js';

describe('resource server database outage', () => {
  let auth: RunningAuthServer;
  let rs: RunningResourceServer;
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let proxy: TcpProxy;
  let token: string;

  const call = async (path: string, init: RequestInit = {}) => {
    const res = await fetch(`${rs.url}${path}`, { ...init, headers: { authorization: `Bearer ${token}`, ...init.headers } });
    return { status: res.status, body: await res.json(), retryAfter: res.headers.get('retry-after') };
  };


  const scrape = async (): Promise<Scrape> => {
    const res = await fetch(`${rs.url}/metrics`);
    expect(res.status).toBe(200);
    return parsePrometheusText(await res.text());
  };
  beforeAll(async () => {
    auth = await startAuthServer();
    db = await createTestDatabase();
    const proxied = await TcpProxy.for(db.url);
    proxy = proxied.proxy;
    rs = await startResourceServer({ issuer: auth.url, databaseUrl: proxied.url });
    const client = await registerClient(auth.url, { access_token_format: 'jwt', scope: 'notes:read notes:write' });
    const res = await postForm(`${auth.url}/oauth2/token`, { grant_type: 'client_credentials', resource: rs.url }, { authorization: basicAuth(client.client_id, client.client_secret) });
    token = (await res.json()).access_token;
  });
  afterAll(async () => {
    await rs?.close();
    await proxy?.stop();
    await db?.drop();
    await auth?.stop();
  });

  it('answers 503 temporarily_unavailable while it is down and recovers once it is back', async () => {
    const json = { 'content-type': 'application/json' };
    const created = await call('/api/notes', { method: 'POST', headers: json, body: JSON.stringify({ title: 'kept' }) });
    expect(created.status).toBe(201);

    await proxy.stop();
    const unavailable = { status: 503, body: { error: 'temporarily_unavailable', error_description: 'the service is temporarily unavailable; try again shortly' }, retryAfter: '5' };
    expect(await call('/api/notes')).toEqual(unavailable);
    expect(await call(`/api/notes/${created.body.id}`)).toEqual(unavailable);
    expect(await call('/api/notes', { method: 'POST', headers: json, body: JSON.stringify({ title: 'lost' }) })).toEqual(unavailable);
    expect(await call('/health/ready')).toEqual({ status: 503, body: { status: 'unavailable', checks: { database: 'down', revocation_feed: 'off' } }, retryAfter: null });
    expect(await call('/health/live')).toEqual({ status: 200, body: { status: 'ok' }, retryAfter: null });

    await proxy.start();
    expect(await call('/health/ready')).toEqual({ status: 200, body: { status: 'ok', checks: { database: 'up', revocation_feed: 'off' } }, retryAfter: null });
    expect(await call('/api/notes')).toEqual({ status: 200, body: { notes: [created.body] }, retryAfter: null });
  });

  it('counts each request refused on the outage by route, and still serves /metrics with the pool gauges', async () => {
    const headers = { authorization: `Bearer ${token}` };
    expect((await fetch(`${rs.url}/api/notes`, { headers })).status).toBe(200);
    const before = await scrape();

    await proxy.stop();
    try {
      expect((await fetch(`${rs.url}/api/notes`, { headers })).status).toBe(503);
      expect((await fetch(`${rs.url}/api/notes`, { headers })).status).toBe(503);
      expect((await fetch(`${rs.url}/api/notes/00000000-0000-4000-8000-000000000000`, { headers })).status).toBe(503);
      const during = await scrape();
      const delta = (name: string, labels: Record<string, string>) => during.value(name, labels) - before.value(name, labels);
      expect([
        delta('tessera_database_outage_errors_total', { route: '/api/notes' }),
        delta('tessera_database_outage_errors_total', { route: '/api/notes/:id' }),
        delta('tessera_http_request_duration_seconds_count', { route: '/api/notes', method: 'GET', status_class: '5xx' }),
        // Accepted by TokenGuard (a cached JWT), then refused by the database.
        delta('tessera_tokenguard_accepted_total', { format: 'jwt' }),
      ]).toEqual([2, 1, 2, 3]);
      expect(during.samples.filter((s) => s.name.startsWith('tessera_database_pool_')).map((s) => s.name).sort()).toEqual([
        'tessera_database_pool_connections',
        'tessera_database_pool_idle_connections',
        'tessera_database_pool_max_connections',
        'tessera_database_pool_waiting_requests',
      ]);
      expect(during.value('tessera_database_pool_waiting_requests', { pool: 'main' })).toBe(0);
    } finally {
      await proxy.start();
    }
  });
});
