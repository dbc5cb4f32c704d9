import { freePort, parsePrometheusText, type Scrape } from '@tessera/testing';
import { basicAuth, postForm, registerClient, startAuthServer, type RunningAuthServer } from './auth-server.harness.js';

async function scrape(url: string): Promise<Scrape> {
  const res = await fetch(`${url}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
  return parsePrometheusText(await res.text());
}

/** How much each named series grew between two scrapes. */
function deltas(before: Scrape, after: Scrape, series: [string, Record<string, string>][]): number[] {
  return series.map(([name, labels]) => after.value(name, labels) - before.value(name, labels));
}

const TOKENS = 'tessera_token_requests_total';
const LATENCY = 'tessera_http_request_duration_seconds_count';

describe('GET /metrics on the auth server', () => {
  let server: RunningAuthServer;
  beforeAll(async () => {
    server = await startAuthServer({ proxy: true });
  });
  afterAll(() => server.stop());

  it('counts issuance by grant, format and outcome, introspection, revocation and request latency, exactly', async () => {
    const opaque = await registerClient(server.url, { access_token_format: 'opaque' });
    const jwt = await registerClient(server.url, { access_token_format: 'jwt' });
    const auth = (c: { client_id: string; client_secret: string }) => ({ authorization: basicAuth(c.client_id, c.client_secret) });
    const before = await scrape(server.url);

    const issued = await postForm(`${server.url}/oauth2/token`, { grant_type: 'client_credentials' }, auth(opaque));
    expect(issued.status).toBe(200);
    const opaqueToken = ((await issued.json()) as { access_token: string }).access_token;
    expect((await postForm(`${server.url}/oauth2/token`, { grant_type: 'client_credentials' }, auth(jwt))).status).toBe(200);
    expect((await postForm(`${server.url}/oauth2/token`, { grant_type: 'client_credentials' }, auth(jwt))).status).toBe(200);
    const wrongSecret = await postForm(`${server.url}/oauth2/token`, { grant_type: 'client_credentials' }, { authorization: basicAuth(opaque.client_id, 'wrong') });
    expect(wrongSecret.status).toBe(401);
    expect((await postForm(`${server.url}/oauth2/token`, { grant_type: 'password', username: 'a', password: 'b' }, auth(opaque))).status).toBe(400);
    expect((await postForm(`${server.url}/oauth2/introspect`, { token: opaqueToken }, auth(opaque))).status).toBe(200);
    expect((await postForm(`${server.url}/oauth2/introspect`, { token: 'tsr_at_nothing' }, auth(opaque))).status).toBe(200);
    expect((await postForm(`${server.url}/oauth2/revoke`, { token: opaqueToken }, auth(opaque))).status).toBe(200);
    const afterRevocation = await postForm(`${server.url}/oauth2/introspect`, { token: opaqueToken }, auth(opaque));
    expect(await afterRevocation.json()).toEqual({ active: false });
    expect((await postForm(`${server.url}/oauth2/revoke`, { token: opaqueToken }, { authorization: basicAuth(jwt.client_id, 'wrong') })).status).toBe(401);

    const after = await scrape(server.url);
    expect(
      deltas(before, after, [
        [TOKENS, { grant_type: 'client_credentials', format: 'opaque', outcome: 'success' }],
        [TOKENS, { grant_type: 'client_credentials', format: 'jwt', outcome: 'success' }],
        [TOKENS, { grant_type: 'client_credentials', format: 'none', outcome: 'invalid_client' }],
        [TOKENS, { grant_type: 'other', format: 'none', outcome: 'unsupported_grant_type' }],
        ['tessera_introspection_requests_total', { outcome: 'active' }],
        ['tessera_introspection_requests_total', { outcome: 'inactive' }],
        ['tessera_revocation_requests_total', { outcome: 'success' }],
        ['tessera_revocation_requests_total', { outcome: 'invalid_client' }],
        [LATENCY, { route: '/oauth2/token', method: 'POST', status_class: '2xx' }],
        [LATENCY, { route: '/oauth2/token', method: 'POST', status_class: '4xx' }],
        [LATENCY, { route: '/oauth2/introspect', method: 'POST', status_class: '2xx' }],
        [LATENCY, { route: '/oauth2/revoke', method: 'POST', status_class: '2xx' }],
        [LATENCY, { route: '/oauth2/revoke', method: 'POST', status_class: '4xx' }],
      ]),
    ).toEqual([1, 2, 1, 1, 1, 2, 1, 1, 3, 2, 3, 1, 1]);
    // Every token-request series is one of these: no other outcome was counted.
    const tokenSeries = (s: Scrape) => s.samples.filter((x) => x.name === TOKENS).reduce((sum, x) => sum + x.value, 0);
    expect(tokenSeries(after) - tokenSeries(before)).toBe(5);

    expect(after.types.get(TOKENS)).toBe('counter');
    expect(after.types.get('tessera_http_request_duration_seconds')).toBe('histogram');
    // No client id, token or secret in labels.
    const text = await (await fetch(`${server.url}/metrics`)).text();
    for (const secret of [opaque.client_id, jwt.client_id, opaque.client_secret, opaqueToken]) expect(text).not.toContain(secret);
    // The process metrics, under the prefix, and the pool.
    expect(after.value('tessera_process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(after.value('tessera_database_pool_connections', { pool: 'main' })).toBeGreaterThanOrEqual(1);
    expect(after.value('tessera_database_pool_max_connections', { pool: 'main' })).toBeGreaterThanOrEqual(1);
    // An unknown path is one label value, not its path.
    const beforeMissing = await scrape(server.url);
    expect((await fetch(`${server.url}/no/such/path-${opaque.client_id}`)).status).toBe(404);
    const afterMissing = await scrape(server.url);
    expect(deltas(beforeMissing, afterMissing, [[LATENCY, { route: 'unmatched', method: 'GET', status_class: '4xx' }]])).toEqual([1]);
  });

  it('counts a request refused while its parameters are read, by the grant it named (no interceptor counts it now)', async () => {
    const before = await scrape(server.url);
    const res = await fetch(`${server.url}/oauth2/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ grant_type: 'client_credentials' }) });
    expect(res.status).toBe(400);
    const after = await scrape(server.url);
    expect(deltas(before, after, [[TOKENS, { grant_type: 'client_credentials', format: 'none', outcome: 'invalid_request' }]])).toEqual([1]);
  });

  it('counts database outages and still answers, pool gauges included, while PostgreSQL is down', async () => {
    const opaque = await registerClient(server.url, { access_token_format: 'opaque' });
    const auth = { authorization: basicAuth(opaque.client_id, opaque.client_secret) };
    expect((await postForm(`${server.url}/oauth2/token`, { grant_type: 'client_credentials' }, auth)).status).toBe(200);
    const before = await scrape(server.url);

    await server.proxy!.stop();
    try {
      expect((await postForm(`${server.url}/oauth2/token`, { grant_type: 'client_credentials' }, auth)).status).toBe(503);
      const during = await scrape(server.url);
      expect(
        deltas(before, during, [
          ['tessera_database_outage_errors_total', { route: '/oauth2/token' }],
          [TOKENS, { grant_type: 'client_credentials', format: 'none', outcome: 'temporarily_unavailable' }],
          [LATENCY, { route: '/oauth2/token', method: 'POST', status_class: '5xx' }],
        ]),
      ).toEqual([1, 1, 1]);
      expect(during.samples.some((s) => s.name === 'tessera_database_pool_connections' && s.labels.pool === 'main')).toBe(true);
      expect(during.value('tessera_database_pool_waiting_requests', { pool: 'main' })).toBe(0);
    } finally {
      await server.proxy!.start();
    }
  });
});

describe('TESSERA_AUTH_METRICS_PORT', () => {
  it('serves /metrics on that port only, not on the main one', async () => {
    const metricsPort = await freePort();
    const server = await startAuthServer({ env: { TESSERA_AUTH_METRICS_PORT: String(metricsPort) } });
    try {
      const onMain = await fetch(`${server.url}/metrics`);
      expect(onMain.status).toBe(404);
      expect(await onMain.json()).toEqual({ error: 'invalid_request', error_description: 'no such endpoint' });
      const metricsUrl = `http://127.0.0.1:${metricsPort}`;
      const scraped = await scrape(metricsUrl);
      expect(scraped.types.get(TOKENS)).toBe('counter');
      expect((await fetch(`${metricsUrl}/`)).status).toBe(404);
      expect((await fetch(`${metricsUrl}/metrics`, { method: 'POST' })).status).toBe(405);
    } finally {
      await server.stop();
    }
    // Closed with the app.
    await expect(fetch(`http://127.0.0.1:${metricsPort}/metrics`)).rejects.toThrow();
  });
});
