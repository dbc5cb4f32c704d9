// Issue 12, point 3: rate limits on the token, introspection, revocation and registration endpoints, per
// authenticated client and per address, shared by two instances on one database. Each instance counts in memory
// and flushes its counts to PostgreSQL; here the flush interval is an hour, so counts are shared exactly when a
// test calls `flush()`, and the clock stands still (window resets by moving it), so nothing depends on timing.
import { FixedClock } from '@tessera/oauth-core';
import type { RateLimiter } from '@tessera/oauth-core';
import { createDataSource } from '@tessera/persistence';
import type { DataSource } from 'typeorm';
import { basicAuth, INITIAL_ACCESS_TOKEN, postForm, registerClient, startAuthServer, type RunningAuthServer } from './auth-server.harness.js';

const WINDOW = 3600;
const ENV = {
  TESSERA_TRUST_PROXY: '127.0.0.1', // each test speaks from addresses of its own, through X-Forwarded-For
  TESSERA_RATE_LIMIT_WINDOW: String(WINDOW),
  TESSERA_RATE_LIMIT_FLUSH_INTERVAL: '3600',
  TESSERA_RATE_LIMIT_TOKEN_PER_CLIENT: '5',
  TESSERA_RATE_LIMIT_TOKEN_PER_ADDRESS: '10',
  TESSERA_RATE_LIMIT_INTROSPECTION_PER_CLIENT: '3',
  TESSERA_RATE_LIMIT_REVOCATION_PER_CLIENT: '3',
  TESSERA_RATE_LIMIT_REGISTRATION_PER_ADDRESS: '30',
};
// 100 s into a window: Retry-After is then 3500 until the clock moves.
const windowStart = (Math.floor(Date.now() / 1000 / WINDOW) + 1) * WINDOW * 1000;
const clock = new FixedClock(new Date(windowStart + 100_000));

let a: RunningAuthServer;
let b: RunningAuthServer;
let db: DataSource;
beforeAll(async () => {
  a = await startAuthServer({ env: ENV, clock });
  b = await startAuthServer({ env: ENV, clock, databaseUrl: a.databaseUrl });
  db = await createDataSource(a.databaseUrl).initialize();
});
afterAll(async () => {
  await db?.destroy();
  await b?.stop();
  await a?.stop();
});

const limiter = (s: RunningAuthServer): RateLimiter => s.services.rateLimiter!;
const flush = (...servers: RunningAuthServer[]) => Promise.all(servers.map((s) => limiter(s).flush()));

let addresses = 0;
/** An address of its own (TEST-NET-3), so that one test's requests never spend another's budget. */
const newAddress = () => `203.0.113.${++addresses}`;

type Creds = { client_id: string; client_secret: string };
const token = (s: RunningAuthServer, c: Creds, from: string, secret = c.client_secret) =>
  postForm(`${s.url}/oauth2/token`, { grant_type: 'client_credentials' }, { authorization: basicAuth(c.client_id, secret), 'x-forwarded-for': from });
const introspect = (s: RunningAuthServer, c: Creds, from: string, what = 'tsr_at_unknown') =>
  postForm(`${s.url}/oauth2/introspect`, { token: what }, { authorization: basicAuth(c.client_id, c.client_secret), 'x-forwarded-for': from });
const revoke = (s: RunningAuthServer, c: Creds, from: string, what = 'tsr_at_unknown') =>
  postForm(`${s.url}/oauth2/revoke`, { token: what }, { authorization: basicAuth(c.client_id, c.client_secret), 'x-forwarded-for': from });
const statuses = async (requests: (() => Promise<Response>)[]) => {
  const result: number[] = [];
  for (const r of requests) result.push((await r()).status);
  return result;
};
const times = <T>(n: number, f: () => T) => Array.from({ length: n }, f);

it('answers 429 too_many_requests with Retry-After, no-store and an OAuth error body', async () => {
  const c = await registerClient(a.url, { access_token_format: 'jwt' });
  const from = newAddress();
  expect(await statuses(times(5, () => () => token(a, c, from)))).toEqual([200, 200, 200, 200, 200]);
  const refused = await token(a, c, from);
  expect(refused.status).toBe(429);
  expect(refused.headers.get('retry-after')).toBe('3500');
  expect(refused.headers.get('cache-control')).toBe('no-store');
  expect(refused.headers.get('pragma')).toBe('no-cache');
  expect(refused.headers.get('content-type')).toBe('application/json; charset=utf-8');
  expect(refused.headers.get('www-authenticate')).toBeNull();
  expect(await refused.json()).toEqual({ error: 'too_many_requests', error_description: 'too many requests from this client, try again in 3500 s' });
});

it("two instances share a client's budget, each deciding from the shared count as of its last flush", async () => {
  const c = await registerClient(a.url, { access_token_format: 'jwt' });
  const from = [newAddress(), newAddress()];
  expect(await statuses(times(3, () => () => token(a, c, from[0])))).toEqual([200, 200, 200]);
  await flush(a); // 3 counted in PostgreSQL
  expect(await statuses(times(2, () => () => token(b, c, from[1])))).toEqual([200, 200]);
  await flush(b); // 5: B knows the budget is spent
  expect((await token(b, c, from[1])).status).toBe(429);
  // A still counts 3 until it flushes this client again: one more is admitted (the documented overshoot) ...
  expect((await token(a, c, from[0])).status).toBe(200);
  await flush(a);
  // ... and from then on both refuse it.
  expect((await token(a, c, from[0])).status).toBe(429);
  expect((await token(b, c, from[1])).status).toBe(429);
  const [row] = await db.query(`SELECT hits::int FROM rate_limit_counts WHERE key = $1`, [`token:client:${c.client_id}`]);
  expect(row).toEqual({ hits: 6 });
});

it("two instances share an address's budget, which every request counts, authenticated or not", async () => {
  const c = await registerClient(a.url, { access_token_format: 'jwt' });
  const from = newAddress();
  // 10 per address: 4 with a wrong secret and 2 good ones through A, then 4 through B.
  expect(await statuses(times(4, () => () => token(a, c, from, 'wrong-secret')))).toEqual([401, 401, 401, 401]);
  expect(await statuses(times(2, () => () => token(a, c, from)))).toEqual([200, 200]);
  await flush(a);
  expect(await statuses(times(4, () => () => token(b, c, from)))).toEqual([200, 200, 200, 200]);
  await flush(b);
  const refused = await token(b, c, from);
  expect(refused.status).toBe(429);
  expect(await refused.json()).toEqual({ error: 'too_many_requests', error_description: 'too many requests from this address, try again in 3500 s' });
  // Even a wrong secret gets 429 now: the address is refused before the client is looked at.
  expect((await token(b, c, from, 'wrong-secret')).status).toBe(429);
  // The client's own budget (5) was spent by the 6 good requests through both: from another address it is refused
  // too, while another client at another address is served.
  expect((await token(b, c, newAddress())).status).toBe(429);
  const other = await registerClient(a.url, { access_token_format: 'jwt' });
  expect((await token(a, other, newAddress())).status).toBe(200);
});

it("a client's budget is spent only by requests where it authenticated, not by anyone naming its client_id", async () => {
  const c = await registerClient(a.url, { access_token_format: 'jwt' });
  for (const s of [a, b]) {
    expect(await statuses(times(6, () => () => token(s, c, newAddress(), 'guessed-secret')))).toEqual([401, 401, 401, 401, 401, 401]);
  }
  await flush(a, b);
  expect(await statuses(times(5, () => () => token(a, c, newAddress())))).toEqual([200, 200, 200, 200, 200]);
  expect((await token(a, c, newAddress())).status).toBe(429);
});

it('a well-behaved client under its limit is served every time, on both instances, while another is throttled', async () => {
  const noisy = await registerClient(a.url, { access_token_format: 'jwt' });
  const polite = await registerClient(a.url, { access_token_format: 'opaque' });
  const from = [newAddress(), newAddress()];
  const politeAnswers: number[] = [];
  const noisyAnswers: number[] = [];
  for (let i = 0; i < 12; i++) {
    const s = i % 2 ? b : a;
    noisyAnswers.push((await token(s, noisy, from[0])).status);
    if (i % 3 === 0) politeAnswers.push((await token(s, polite, from[1])).status);
    await flush(s);
  }
  expect(politeAnswers).toEqual([200, 200, 200, 200]);
  expect(noisyAnswers.filter((s) => s === 429).length).toBeGreaterThanOrEqual(5);
  expect(noisyAnswers.every((s) => s === 200 || s === 429)).toBe(true);
});

it('each endpoint group has its own budget: introspection and revocation per client, registration per address', async () => {
  const c = await registerClient(a.url, { access_token_format: 'opaque' });
  const from = newAddress();
  const issued = await (await token(a, c, from)).json();
  expect(await statuses(times(3, () => () => introspect(a, c, from, issued.access_token)))).toEqual([200, 200, 200]);
  expect((await introspect(a, c, from)).status).toBe(429);
  expect(await statuses(times(3, () => () => revoke(a, c, from)))).toEqual([200, 200, 200]);
  expect((await revoke(a, c, from)).status).toBe(429);
  // The token endpoint's budget is untouched by the two others.
  expect((await token(a, c, from)).status).toBe(200);

  // Registration: 30 per address, whatever the initial access token.
  const register = (s: RunningAuthServer, at: string, iat = INITIAL_ACCESS_TOKEN) =>
    fetch(`${s.url}/oauth2/register`, {
      method: 'POST',
      headers: { authorization: `Bearer ${iat}`, 'content-type': 'application/json', 'x-forwarded-for': at },
      body: JSON.stringify({ client_name: 'burst', scope: 'read' }),
    });
  const registrar = newAddress();
  expect(await statuses(times(10, () => () => register(a, registrar, 'not-the-initial-access-token')))).toEqual(times(10, () => 401));
  expect(await statuses(times(20, () => () => register(a, registrar)))).toEqual(times(20, () => 201));
  const refused = await register(a, registrar);
  expect(refused.status).toBe(429);
  expect(refused.headers.get('retry-after')).toBe('3500');
  expect((await register(a, newAddress())).status).toBe(201);
});

it('a new window starts with a full budget, and the old windows are purged', async () => {
  const c = await registerClient(a.url, { access_token_format: 'jwt' });
  expect(await statuses(times(6, () => () => token(a, c, newAddress())))).toEqual([200, 200, 200, 200, 200, 429]);
  await flush(a, b);
  const before = await db.query(`SELECT count(*)::int AS n FROM rate_limit_counts`);
  expect(before[0].n).toBeGreaterThan(0);
  clock.advance(WINDOW); // for the rest of this file
  const answer = await token(a, c, newAddress());
  expect(answer.status).toBe(200);
  await flush(a);
  const rows = await db.query(`SELECT key, hits::int, window_start FROM rate_limit_counts`);
  expect(rows.length).toBeGreaterThan(0);
  expect(rows.every((r: { window_start: Date }) => r.window_start.getTime() === windowStart + WINDOW * 1000)).toBe(true);
  expect(rows.find((r: { key: string }) => r.key === `token:client:${c.client_id}`)).toMatchObject({ hits: 1 });
});

it('keeps limiting, and never answers 500, while the counts cannot reach PostgreSQL', async () => {
  const cut = await startAuthServer({ env: ENV, clock, databaseUrl: a.databaseUrl, proxy: true });
  try {
    const jwt = await registerClient(cut.url, { access_token_format: 'jwt' });
    const opaque = await registerClient(cut.url, { access_token_format: 'opaque' });
    const from = newAddress();
    expect((await token(cut, opaque, from)).status).toBe(200);
    await flush(cut);
    await cut.proxy!.stop();
    // The per-address limit is checked before anything reads the database, so this instance limits the address
    // from its own counts. What comes before the limit is served from the caches (200) or needs the database
    // (503): the change feed drops the caches when it loses its LISTEN connection, which races with these requests.
    const other = newAddress();
    const during = await statuses(times(11, () => () => token(cut, jwt, other)));
    expect(during.slice(0, 10).filter((status) => status !== 200 && status !== 503)).toEqual([]);
    expect(during[10]).toBe(429);
    await flush(cut); // fails, quietly
    // An opaque token needs the database: 503, as without limits.
    const unavailable = await token(cut, opaque, from);
    expect(unavailable.status).toBe(503);
    expect((await unavailable.json()).error).toBe('temporarily_unavailable');
    await cut.proxy!.start();
    await flush(cut); // the hits counted meanwhile reach PostgreSQL
    const [row] = await db.query(`SELECT hits::int FROM rate_limit_counts WHERE key = $1`, [`token:address:${other}`]);
    expect(row.hits).toBeGreaterThanOrEqual(10);
  } finally {
    await cut.stop();
  }
});
