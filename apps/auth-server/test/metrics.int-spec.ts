import { FixedClock } from '@tessera/oauth-core';
import { freePort, parsePrometheusText, type Scrape } from '@tessera/testing';
import { KeyRotationScheduler } from '../src/maintenance/key-rotation.scheduler.js';
import { Purger } from '../src/maintenance/purger.js';
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

  it('observes the rows of each group-commit statement: every row once, in at most as many statements', async () => {
    const opaque = await registerClient(server.url, { access_token_format: 'opaque' });
    const jwt = await registerClient(server.url, { access_token_format: 'jwt' });
    const issue = async (c: { client_id: string; client_secret: string }) => {
      const res = await postForm(`${server.url}/oauth2/token`, { grant_type: 'client_credentials' }, { authorization: basicAuth(c.client_id, c.client_secret) });
      expect(res.status).toBe(200);
      return ((await res.json()) as { access_token: string }).access_token;
    };
    const revoke = async (c: { client_id: string; client_secret: string }, token: string) =>
      expect((await postForm(`${server.url}/oauth2/revoke`, { token }, { authorization: basicAuth(c.client_id, c.client_secret) })).status).toBe(200);
    const jwts = await Promise.all(Array.from({ length: 5 }, () => issue(jwt)));
    const before = await scrape(server.url);
    const opaques = await Promise.all(Array.from({ length: 20 }, () => issue(opaque)));
    await Promise.all(opaques.slice(0, 3).map((t) => revoke(opaque, t)));
    await Promise.all(jwts.map((t) => revoke(jwt, t)));
    const after = await scrape(server.url);
    const ROWS = 'tessera_group_commit_rows';
    const statements = ['access_token_insert', 'access_token_revocation', 'token_revocation'];
    expect(deltas(before, after, statements.map((statement) => [`${ROWS}_sum`, { statement }]))).toEqual([20, 3, 5]);
    const counts = deltas(before, after, statements.map((statement) => [`${ROWS}_count`, { statement }]));
    [20, 3, 5].forEach((rows, i) => {
      expect(counts[i]).toBeGreaterThanOrEqual(1);
      expect(counts[i]).toBeLessThanOrEqual(rows);
    });
    expect(after.types.get(ROWS)).toBe('histogram');
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

describe('GET /metrics: rate limits, purges and scheduled key rotations', () => {
  // The clock stands still (a window of an hour never rolls mid-test) and flushes happen when the test calls them.
  const clock = new FixedClock(new Date());
  let server: RunningAuthServer;
  beforeAll(async () => {
    server = await startAuthServer({
      proxy: true,
      clock,
      env: {
        TESSERA_TRUST_PROXY: '127.0.0.1',
        TESSERA_RATE_LIMIT_WINDOW: '3600',
        TESSERA_RATE_LIMIT_FLUSH_INTERVAL: '3600',
        TESSERA_RATE_LIMIT_TOKEN_PER_CLIENT: '2',
        TESSERA_RATE_LIMIT_INTROSPECTION_PER_ADDRESS: '1',
        TESSERA_REVOCATION_PURGE_INTERVAL: '86400',
        TESSERA_KEY_ROTATION_INTERVAL: '86400',
      },
    });
  });
  afterAll(() => server.stop());

  const LIMITED = 'tessera_rate_limited_requests_total';
  const FLUSHES = 'tessera_rate_limit_flushes_total';

  it('counts throttled requests by endpoint group and limit (the per-address ones refused by the guard too), flushes, keys per flush and hits not shared', async () => {
    const client = await registerClient(server.url, { access_token_format: 'jwt' });
    const auth = (from: string) => ({ authorization: basicAuth(client.client_id, client.client_secret), 'x-forwarded-for': from });
    const limiter = server.services.rateLimiter!;
    await limiter.flush();
    const before = await scrape(server.url);
    expect(before.value('tessera_rate_limit_unshared_hits')).toBe(0);

    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await postForm(`${server.url}/oauth2/token`, { grant_type: 'client_credentials' }, auth('203.0.113.1'))).status);
    for (let i = 0; i < 2; i++) statuses.push((await postForm(`${server.url}/oauth2/introspect`, { token: 'tsr_at_unknown' }, auth('203.0.113.2'))).status);
    expect(statuses).toEqual([200, 200, 429, 200, 429]);

    const throttled = await scrape(server.url);
    expect(
      deltas(before, throttled, [
        [LIMITED, { endpoint: 'token', limit: 'client' }],
        [LIMITED, { endpoint: 'introspection', limit: 'address' }],
        [LIMITED, { endpoint: 'token', limit: 'address' }],
        [LIMITED, { endpoint: 'introspection', limit: 'client' }],
        [TOKENS, { grant_type: 'client_credentials', format: 'none', outcome: 'too_many_requests' }],
        [LATENCY, { route: '/oauth2/introspect', method: 'POST', status_class: '4xx' }],
      ]),
    ).toEqual([1, 1, 0, 0, 1, 1]);
    // Admitted, not yet shared: 3 token requests by address, 2 by client; 1 introspection by address, 1 by client.
    expect(throttled.value('tessera_rate_limit_unshared_hits')).toBe(7);
    expect(throttled.value('tessera_rate_limit_sharing_failed')).toBe(0);

    await limiter.flush();
    const flushed = await scrape(server.url);
    expect(
      deltas(throttled, flushed, [
        [FLUSHES, { outcome: 'ok' }],
        [FLUSHES, { outcome: 'failed' }],
        ['tessera_rate_limit_flush_keys_count', {}],
        ['tessera_rate_limit_flush_keys_sum', {}],
      ]),
    ).toEqual([1, 0, 1, 4]);
    expect(flushed.value('tessera_rate_limit_unshared_hits')).toBe(0);
    // The four keys just flushed, and the registration's address key, in the shared view.
    expect(flushed.value('tessera_rate_limit_tracked_keys')).toBe(5);

    // PostgreSQL unreachable: the flush fails, the hits stay this instance's own until one succeeds.
    expect((await postForm(`${server.url}/oauth2/token`, { grant_type: 'client_credentials' }, auth('203.0.113.3'))).status).toBe(429);
    await server.proxy!.stop();
    try {
      await limiter.flush();
      await limiter.flush();
      const during = await scrape(server.url);
      expect(deltas(flushed, during, [[FLUSHES, { outcome: 'failed' }], [FLUSHES, { outcome: 'ok' }], [LIMITED, { endpoint: 'token', limit: 'client' }]])).toEqual([2, 0, 1]);
      expect(during.value('tessera_rate_limit_unshared_hits')).toBe(1);
      expect(during.value('tessera_rate_limit_sharing_failed')).toBe(1);
    } finally {
      await server.proxy!.start();
    }
    await limiter.flush();
    const recovered = await scrape(server.url);
    expect(recovered.value('tessera_rate_limit_unshared_hits')).toBe(0);
    expect(recovered.value('tessera_rate_limit_sharing_failed')).toBe(0);
    expect(recovered.types.get(LIMITED)).toBe('counter');
    expect(recovered.types.get('tessera_rate_limit_flush_keys')).toBe('histogram');
    expect(recovered.types.get('tessera_rate_limit_unshared_hits')).toBe('gauge');
  });

  it('counts purged rows per kind and scheduled key rotations', async () => {
    const client = await registerClient(server.url, { access_token_format: 'opaque' });
    // Two opaque access tokens (stored), within the per-client limit.
    for (let i = 0; i < 2; i++) {
      const res = await postForm(`${server.url}/oauth2/token`, { grant_type: 'client_credentials' }, { authorization: basicAuth(client.client_id, client.client_secret), 'x-forwarded-for': '203.0.113.9' });
      expect(res.status).toBe(200);
    }
    const before = await scrape(server.url);
    // Two days on: the tokens have expired (purged), and the signing key is due (rotated).
    clock.advance(2 * 86400);
    const purged = await server.app.get(Purger).purge();
    expect(purged).toMatchObject({ accessTokens: 2, sessions: 0, revocations: 0 });
    expect(await server.app.get(KeyRotationScheduler).check()).toBe(true);
    expect(await server.app.get(KeyRotationScheduler).check()).toBe(false);
    const after = await scrape(server.url);
    expect(
      deltas(before, after, [
        ['tessera_purged_rows_total', { kind: 'access_tokens' }],
        ['tessera_purged_rows_total', { kind: 'sessions' }],
        ['tessera_purged_rows_total', { kind: 'refresh_token_families' }],
        ['tessera_scheduled_key_rotations_total', {}],
      ]),
    ).toEqual([2, 0, 0, 1]);
    expect(after.samples.filter((x) => x.name === 'tessera_purged_rows_total').map((x) => x.labels.kind).sort()).toEqual(
      ['access_tokens', 'redeemed_codes', 'refresh_token_families', 'revocations', 'sessions', 'sign_in_failures', 'unredeemed_codes'],
    );
  });
});
