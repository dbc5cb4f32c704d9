// The resource server's /metrics beside the real auth server: TokenGuard's accept/reject counts, cache hits and
// misses and feed lag, and the request histogram, for both token formats (tokens from oauth4webapi).
import * as oauth from 'oauth4webapi';
import { freePort, parsePrometheusText, type Scrape } from '@tessera/testing';
import { INITIAL_ACCESS_TOKEN, registerClient, startAuthServer, type RunningAuthServer } from '../apps/auth-server/test/auth-server.harness.js';
import { startResourceServer, type RunningResourceServer } from '../apps/resource-server/test/resource-server.harness.js';

const insecure = { [oauth.allowInsecureRequests]: true };

async function scrape(url: string): Promise<Scrape> {
  const res = await fetch(`${url}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
  return parsePrometheusText(await res.text());
}

async function untilReady(rs: RunningResourceServer, withinMs = 10_000): Promise<void> {
  const start = performance.now();
  while ((await fetch(`${rs.url}/health/ready`)).status !== 200) {
    if (performance.now() - start > withinMs) throw new Error(`not ready within ${withinMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function get(rs: RunningResourceServer, token: string | null, method = 'GET', body?: unknown) {
  return fetch(`${rs.url}/api/notes`, {
    method,
    headers: { ...(token === null ? {} : { authorization: `Bearer ${token}` }), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

describe('resource server metrics', () => {
  let auth: RunningAuthServer;
  let as: oauth.AuthorizationServer;
  let rs: RunningResourceServer;

  beforeAll(async () => {
    auth = await startAuthServer();
    const issuer = new URL(auth.url);
    as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { ...insecure, algorithm: 'oauth2' }));
    rs = await startResourceServer({ issuer: auth.url, env: { TESSERA_INITIAL_ACCESS_TOKEN: INITIAL_ACCESS_TOKEN } });
    await rs.credentials.settled;
    await untilReady(rs);
  });
  afterAll(async () => {
    await rs?.stop();
    await auth?.stop();
  });

  async function tokenFor(format: 'opaque' | 'jwt', scope: string): Promise<string> {
    const registered = await registerClient(auth.url, { access_token_format: format, scope });
    const client: oauth.Client = { client_id: registered.client_id };
    const response = await oauth.clientCredentialsGrantRequest(as, client, oauth.ClientSecretBasic(registered.client_secret), { resource: rs.url, scope }, insecure);
    return (await oauth.processClientCredentialsResponse(as, client, response)).access_token;
  }

  it.each(['opaque', 'jwt'] as const)('counts TokenGuard accepts by format, rejects by reason, and cache hits and misses, exactly (%s)', async (format) => {
    const writer = await tokenFor(format, 'notes:read notes:write');
    const reader = await tokenFor(format, 'notes:read');
    const before = await scrape(rs.url);

    expect((await get(rs, writer)).status).toBe(200); // verified now: a miss
    expect((await get(rs, writer)).status).toBe(200); // from the cache: a hit
    expect((await get(rs, reader, 'POST', { title: 't', body: 'b' })).status).toBe(403); // a miss, then insufficient_scope
    expect((await get(rs, null)).status).toBe(401);
    expect((await get(rs, 'not-a-token-anyone-issued')).status).toBe(401); // a miss (introspected), invalid_token

    const after = await scrape(rs.url);
    const delta = (name: string, labels: Record<string, string> = {}) => after.value(name, labels) - before.value(name, labels);
    expect({
      accepted: delta('tessera_tokenguard_accepted_total', { format }),
      acceptedOther: delta('tessera_tokenguard_accepted_total', { format: format === 'jwt' ? 'opaque' : 'jwt' }),
      hits: delta('tessera_tokenguard_cache_hits_total'),
      misses: delta('tessera_tokenguard_cache_misses_total'),
      insufficientScope: delta('tessera_tokenguard_rejected_total', { reason: 'insufficient_scope' }),
      missingToken: delta('tessera_tokenguard_rejected_total', { reason: 'missing_token' }),
      invalidToken: delta('tessera_tokenguard_rejected_total', { reason: 'invalid_token' }),
      unavailable: delta('tessera_tokenguard_rejected_total', { reason: 'temporarily_unavailable' }),
      get2xx: delta('tessera_http_request_duration_seconds_count', { route: '/api/notes', method: 'GET', status_class: '2xx' }),
      get4xx: delta('tessera_http_request_duration_seconds_count', { route: '/api/notes', method: 'GET', status_class: '4xx' }),
      post4xx: delta('tessera_http_request_duration_seconds_count', { route: '/api/notes', method: 'POST', status_class: '4xx' }),
    }).toEqual({ accepted: 2, acceptedOther: 0, hits: 1, misses: 3, insufficientScope: 1, missingToken: 1, invalidToken: 1, unavailable: 0, get2xx: 2, get4xx: 2, post4xx: 1 });

    expect(after.types.get('tessera_tokenguard_accepted_total')).toBe('counter');
    // Following the feed, caught up: the lag is a sample (seconds since it last proved current), and not stale.
    expect(after.samples.find((s) => s.name === 'tessera_tokenguard_revocation_feed_lag_seconds')?.value).toBeGreaterThanOrEqual(0);
    expect(after.value('tessera_tokenguard_revocation_feed_stale')).toBe(0);
    expect(after.value('tessera_database_pool_connections', { pool: 'main' })).toBeGreaterThanOrEqual(1);
    expect(after.value('tessera_process_resident_memory_bytes')).toBeGreaterThan(0);
    // The same counts, without prom-client.
    const { TokenGuardStatus } = await import('@tessera/token-guard');
    expect(rs.app.get(TokenGuardStatus).metrics().accepted[format]).toBe(after.value('tessera_tokenguard_accepted_total', { format }));
  });

  it('serves /metrics on TESSERA_RESOURCE_METRICS_PORT instead, when set', async () => {
    const metricsPort = await freePort();
    const other = await startResourceServer({
      issuer: auth.url,
      env: { TESSERA_INITIAL_ACCESS_TOKEN: INITIAL_ACCESS_TOKEN, TESSERA_RESOURCE_METRICS_PORT: String(metricsPort) },
    });
    try {
      expect((await fetch(`${other.url}/metrics`)).status).toBe(404);
      const scraped = await scrape(`http://127.0.0.1:${metricsPort}`);
      expect(scraped.types.get('tessera_tokenguard_rejected_total')).toBe('counter');
    } finally {
      await other.stop();
    }
  });
});
