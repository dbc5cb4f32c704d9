// The revocation feed: paged JSON and Server-Sent Events, served by every instance sharing one PostgreSQL.
import { feedPseudonym } from '@tessera/oauth-core';
import { TypeOrmClientRepository, createDataSource } from '@tessera/persistence';
import { ManualClock } from '@tessera/testing';
import { KeySet, RETIRED_KEY_SKEW_SECONDS } from '@tessera/tokens';
import { decodeJwt } from 'jose';
import type { DataSource } from 'typeorm';
import { Purger } from '../src/maintenance/purger.js';
import { basicAuth, postForm, registerClient, startAuthServer, type RunningAuthServer } from './auth-server.harness.js';

let a: RunningAuthServer;
let b: RunningAuthServer;
const API = 'https://api.example';
const OTHER_API = 'https://other.example';
let follower: { client_id: string; client_secret: string };
let followerAuth: string;
/** The key of the follower's pseudonyms. */
let followerKey: string;

/** Instance A's clock: the real time until the purge test moves it on. */
const clockOfA = new ManualClock();

beforeAll(async () => {
  a = await startAuthServer({ clock: clockOfA });
  b = await startAuthServer({ databaseUrl: a.databaseUrl });
  follower = await registerClient(a.url, {
    client_name: 'resource server',
    scope: '',
    token_endpoint_auth_method: 'client_secret_post',
    resource_server_for: [API],
  });
  followerAuth = basicAuth(follower.client_id, follower.client_secret);
  followerKey = (await page(a, 'limit=1')).body.pseudonym_key;
});
afterAll(async () => {
  await b.stop();
  await a.stop();
});

async function issue(server: RunningAuthServer, c: { client_id: string; client_secret: string }) {
  const res = await postForm(`${server.url}/oauth2/token`, { grant_type: 'client_credentials' }, { authorization: basicAuth(c.client_id, c.client_secret) });
  return (await res.json()).access_token as string;
}
async function revoke(server: RunningAuthServer, c: { client_id: string; client_secret: string }, token: string) {
  expect((await postForm(`${server.url}/oauth2/revoke`, { token }, { authorization: basicAuth(c.client_id, c.client_secret) })).status).toBe(200);
}
const page = async (server: RunningAuthServer, query: string, authorization = followerAuth) => {
  const res = await fetch(`${server.url}/oauth2/revocations?${query}`, { headers: { authorization } });
  return { status: res.status, headers: res.headers, body: await res.json() };
};
const latest = async () => (await page(a, 'after=0')).body.next_after as string;

type StreamEvent = { event: string; id?: string; data: any };

/** Reads Server-Sent Events from a stream, each `until` as far as it needs; `events` holds all read so far. */
function eventReader(res: Response) {
  const events: StreamEvent[] = [];
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  return {
    events,
    async until(check: (events: StreamEvent[]) => boolean, ms = 5000): Promise<StreamEvent[]> {
      const deadline = Date.now() + ms;
      while (!check(events)) {
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<never>((_, rej) => {
          timer = setTimeout(() => rej(new Error(`no event in time; got ${JSON.stringify(events)}`)), Math.max(1, deadline - Date.now()));
        });
        const chunk = await Promise.race([reader.read(), timeout]).finally(() => clearTimeout(timer));
        if (chunk.done) break;
        buffer += chunk.value;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const fields = Object.fromEntries(block.split('\n').filter((l) => l && !l.startsWith(':')).map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()]));
          if (fields.event) events.push({ event: fields.event, id: fields.id, data: JSON.parse(fields.data) });
        }
      }
      return events;
    },
    close: () => reader.cancel(),
  };
}

/** Reads Server-Sent Events from a stream until `until` says stop. */
async function readEvents(res: Response, until: (events: StreamEvent[]) => boolean, ms = 5000) {
  const stream = eventReader(res);
  try {
    return await stream.until(until, ms);
  } finally {
    await stream.close();
  }
}

/** The kids `server` publishes, in JWKS order. */
const jwksKids = async (server: RunningAuthServer) =>
  ((await (await fetch(`${server.url}/.well-known/jwks.json`)).json()).keys as { kid: string }[]).map((k) => k.kid);

describe('the revocation feed as JSON pages', () => {
  it('lists JWT and opaque revocations and client-wide marks, in order, paged', async () => {
    const after = await latest();
    const jwtClient = await registerClient(a.url, { access_token_format: 'jwt', resources: [API] });
    const opaqueClient = await registerClient(a.url, { access_token_format: 'opaque', resources: [API] });
    const jwt = await issue(a, jwtClient);
    const opaque = await issue(a, opaqueClient);
    await revoke(a, jwtClient, jwt);
    await revoke(b, opaqueClient, opaque);
    const ds: DataSource = await createDataSource(a.databaseUrl).initialize();
    const disabledAt = new Date();
    await new TypeOrmClientRepository(ds, 86400).update(jwtClient.client_id, { disabledAt }, disabledAt);
    await ds.destroy();

    const res = await page(a, `after=${after}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const [e1, e2, e3] = res.body.revocations;
    expect(res.body).toEqual({ revocations: [e1, e2, e3], next_after: e3.seq, has_more: false, resource_server_for: [API], pseudonym_key: followerKey });
    expect(followerKey).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(e1).toEqual({ seq: expect.stringMatching(/^\d+$/), type: 'jti', jti: expect.any(String), exp: expect.any(Number) });
    expect(e2).toEqual({ seq: expect.any(String), type: 'jti', jti: expect.any(String), exp: expect.any(Number) });
    // The client is named by its pseudonym for this resource server, never in clear.
    expect(e3).toEqual({
      seq: expect.any(String),
      type: 'issued_before',
      client: feedPseudonym(followerKey, 'client', jwtClient.client_id),
      iat_before: Math.ceil(disabledAt.getTime() / 1000),
      exp: Math.ceil(disabledAt.getTime() / 1000) + 86400,
    });
    expect(BigInt(e1.seq) < BigInt(e2.seq) && BigInt(e2.seq) < BigInt(e3.seq)).toBe(true);

    const first = await page(b, `after=${after}&limit=2`);
    expect(first.body).toEqual({ revocations: [e1, e2], next_after: e2.seq, has_more: true, resource_server_for: [API], pseudonym_key: followerKey });
    expect((await page(b, `after=${first.body.next_after}&limit=2`)).body).toEqual({
      revocations: [e3],
      next_after: e3.seq,
      has_more: false,
      resource_server_for: [API],
      pseudonym_key: followerKey,
    });
  });

  it.each([
    ['no client authentication', 'after=0', undefined, 401, 'invalid_client'],
    ['a wrong secret', 'after=0', 'wrong', 401, 'invalid_client'],
    ['a bad cursor', 'after=-1', null, 400, 'invalid_request'],
    ['a bad limit', 'limit=5000', null, 400, 'invalid_request'],
    ['a repeated cursor', 'after=1&after=2', null, 400, 'invalid_request'],
  ])('refuses %s', async (_, query, secret, status, error) => {
    const authorization = secret === null ? followerAuth : secret === undefined ? '' : basicAuth(follower.client_id, secret);
    const res = await fetch(`${a.url}/oauth2/revocations?${query}`, { headers: authorization ? { authorization } : {} });
    expect(res.status).toBe(status);
    expect((await res.json()).error).toBe(error);
  });
});

describe('the revocation feed as Server-Sent Events', () => {
  const open = (server: RunningAuthServer, after: string, headers: Record<string, string> = {}) =>
    fetch(`${server.url}/oauth2/revocations?after=${after}`, { headers: { authorization: followerAuth, accept: 'text/event-stream', ...headers } });

  it('pushes a revocation committed through instance A to a stream served by instance B', async () => {
    const c = await registerClient(a.url, { access_token_format: 'jwt', resources: [API] });
    const before = await issue(a, c);
    await revoke(a, c, before);
    const cursor = (await page(a, 'after=0')).body.next_after;
    const token = await issue(a, c);
    const kids = await jwksKids(b);

    const res = await open(b, String(BigInt(cursor) - 1n));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const events = readEvents(res, (ev) => ev.filter((e) => e.event === 'revocation').length >= 2);
    await new Promise((r) => setTimeout(r, 100));
    await revoke(a, c, token);
    const got = await events;
    expect(got.map((e) => e.event)).toEqual(['pseudonym-key', 'revocation', 'caught-up', 'keys', 'revocation']);
    expect(got[0]).toEqual({ event: 'pseudonym-key', id: undefined, data: { key: followerKey } });
    expect(got[1]).toMatchObject({ id: cursor, data: { seq: cursor, type: 'jti' } });
    expect(got[2].data).toEqual({ seq: cursor });
    expect(got[3]).toEqual({ event: 'keys', id: undefined, data: { kids } });
    expect(got[4].data).toEqual({ seq: got[4].id, type: 'jti', jti: expect.any(String), exp: expect.any(Number) });
    expect(BigInt(got[4].id!)).toBeGreaterThan(BigInt(cursor));
  });

  it('resumes after Last-Event-ID', async () => {
    const c = await registerClient(a.url, { access_token_format: 'opaque', resources: [API] });
    const cursor = await latest();
    await revoke(a, c, await issue(a, c));
    await revoke(b, c, await issue(b, c));
    const all = (await page(a, `after=${cursor}`)).body.revocations;
    const res = await open(a, '0', { 'last-event-id': all[0].seq });
    const got = await readEvents(res, (ev) => ev.some((e) => e.event === 'caught-up'));
    expect(got.filter((e) => e.event === 'revocation').map((e) => e.data)).toEqual([all[1]]);
  });

  it('announces a key rotation through instance A on the streams of A and B, once their JWKS serve the new keys', async () => {
    const c = await registerClient(a.url, { access_token_format: 'opaque', resources: [API] });
    const token = await issue(a, c);
    const cursor = await latest();
    const before = await jwksKids(b);
    expect(await jwksKids(a)).toEqual(before);
    const onA = eventReader(await open(a, cursor));
    const onB = eventReader(await open(b, cursor));
    try {
      for (const stream of [onA, onB]) {
        expect(await stream.until((ev) => ev.some((e) => e.event === 'keys'))).toEqual([
          { event: 'pseudonym-key', id: undefined, data: { key: followerKey } },
          { event: 'caught-up', id: undefined, data: { seq: cursor } },
          { event: 'keys', id: undefined, data: { kids: before } },
        ]);
      }

      // Through A's KeySet, the call the CLI's `keys rotate` makes; B hears of it by NOTIFY.
      const keys = a.app.get(KeySet);
      await keys.rotate('EdDSA');
      const newKid = keys.signingKey().kid;
      expect(before).not.toContain(newKid);

      const [gotA, gotB] = await Promise.all([onA, onB].map((stream) => stream.until((ev) => ev.length === 4)));
      const [kidsA, kidsB] = [await jwksKids(a), await jwksKids(b)];
      expect(kidsB).toEqual([newKid, ...before]);
      expect(kidsA).toEqual(kidsB);
      expect(gotB[3]).toEqual({ event: 'keys', id: undefined, data: { kids: kidsB } });
      expect(gotA[3]).toEqual({ event: 'keys', id: undefined, data: { kids: kidsA } });

      // Nothing more about keys (A's reload on its own NOTIFY changed nothing); revocations flow on as before.
      await revoke(a, c, token);
      for (const stream of [onA, onB]) {
        const got = await stream.until((ev) => ev.some((e) => e.event === 'revocation'));
        expect(got.map((e) => e.event)).toEqual(['pseudonym-key', 'caught-up', 'keys', 'keys', 'revocation']);
        expect(got[4]).toMatchObject({ id: got[4].data.seq, data: { type: 'jti' } });
      }
    } finally {
      await Promise.all([onA.close(), onB.close()]);
    }

    const now = await latest();
    const fresh = await readEvents(await open(b, now), (ev) => ev.some((e) => e.event === 'keys'));
    expect(fresh).toEqual([
      { event: 'pseudonym-key', id: undefined, data: { key: followerKey } },
      { event: 'caught-up', id: undefined, data: { seq: now } },
      { event: 'keys', id: undefined, data: { kids: await jwksKids(b) } },
    ]);
    expect(fresh[2].data.kids).toHaveLength(before.length + 1);
  });

  it('refuses a stream without client authentication', async () => {
    const res = await fetch(`${a.url}/oauth2/revocations`, { headers: { accept: 'text/event-stream' } });
    expect(res.status).toBe(401);
  });
});

describe('who reads the feed, and what each reader sees', () => {
  const registerResourceServer = (resource: string) => registerClient(a.url, { client_name: `rs for ${resource}`, scope: '', resource_server_for: [resource] });
  const stream = (server: RunningAuthServer, c: { client_id: string; client_secret: string }, after: string) =>
    fetch(`${server.url}/oauth2/revocations?after=${after}`, { headers: { authorization: basicAuth(c.client_id, c.client_secret), accept: 'text/event-stream' } });

  it('refuses a confidential client that is no resource server, as JSON and as a stream', async () => {
    const plain = await registerClient(a.url, { client_name: 'just a client' });
    const asJson = await page(a, 'after=0', basicAuth(plain.client_id, plain.client_secret));
    expect([asJson.status, asJson.headers.get('cache-control'), asJson.body]).toEqual([
      403,
      'no-store',
      { error: 'access_denied', error_description: 'only resource servers may read the revocation feed (see resource_server_for)' },
    ]);
    const asStream = await stream(a, plain, '0');
    expect(asStream.status).toBe(403);
    expect((await asStream.json()).error).toBe('access_denied');
  });

  it("gives a resource server no jti of another audience's tokens, and moves its cursor past them", async () => {
    const apiClient = await registerClient(a.url, { access_token_format: 'jwt', resources: [API] });
    const other = await registerResourceServer(OTHER_API);
    const otherAuth = basicAuth(other.client_id, other.client_secret);
    const cursor = await latest();
    await revoke(a, apiClient, await issue(a, apiClient));
    const [entry] = (await page(a, `after=${cursor}`)).body.revocations;
    expect(entry).toMatchObject({ type: 'jti' });

    // As JSON: nothing, and the cursor past it.
    const otherKey = (await page(a, 'limit=1', otherAuth)).body.pseudonym_key;
    expect((await page(a, `after=${cursor}`, otherAuth)).body).toEqual({
      revocations: [],
      next_after: entry.seq,
      has_more: false,
      resource_server_for: [OTHER_API],
      pseudonym_key: otherKey,
    });

    // As a stream: a cursor event in place of the entry, in the catch-up and live.
    const events = eventReader(await stream(b, other, cursor));
    try {
      expect(await events.until((ev) => ev.some((e) => e.event === 'keys'))).toEqual([
        { event: 'pseudonym-key', id: undefined, data: { key: otherKey } },
        { event: 'cursor', id: entry.seq, data: { seq: entry.seq } },
        { event: 'caught-up', id: undefined, data: { seq: entry.seq } },
        { event: 'keys', id: undefined, data: { kids: expect.any(Array) } },
      ]);
      await revoke(a, apiClient, await issue(a, apiClient));
      const live = await events.until((ev) => ev.length === 5);
      const [next] = (await page(a, `after=${entry.seq}`)).body.revocations;
      expect(live[4]).toEqual({ event: 'cursor', id: next.seq, data: { seq: next.seq } });
      // A heartbeat's latest_seq is then never past what the stream has covered: no false gap.
      const beat = (await events.until((ev) => ev.some((e) => e.event === 'heartbeat'), 7000)).find((e) => e.event === 'heartbeat')!;
      expect(BigInt(beat.data.latest_seq)).toBeLessThanOrEqual(BigInt(next.seq));
    } finally {
      await events.close();
    }
  });

  it('names clients, subjects and grants in marks by pseudonyms that differ between resource servers', async () => {
    const other = await registerResourceServer(OTHER_API);
    const otherAuth = basicAuth(other.client_id, other.client_secret);
    const otherKey = (await page(a, 'limit=1', otherAuth)).body.pseudonym_key;
    expect(otherKey).not.toBe(followerKey);
    const c = await registerClient(a.url, { resources: [API] });
    const cursor = await latest();
    await a.services.registrar.rotateSecret(c.client_id, true);
    const [mine] = (await page(a, `after=${cursor}`)).body.revocations;
    const [theirs] = (await page(a, `after=${cursor}`, otherAuth)).body.revocations;
    expect(mine).toMatchObject({ type: 'issued_before', client: feedPseudonym(followerKey, 'client', c.client_id) });
    expect(theirs).toMatchObject({ type: 'issued_before', client: feedPseudonym(otherKey, 'client', c.client_id) });
    expect(mine.client).not.toBe(theirs.client);
    expect(JSON.stringify([mine, theirs])).not.toContain(c.client_id);
  });

  it.each([
    ['disabled', (clientId: string) => a.services.registrar.disable(clientId)],
    ['its secret rotated', (clientId: string) => a.services.registrar.rotateSecret(clientId, false)],
    [
      'disabled by another process',
      async (clientId: string) => {
        const ds: DataSource = await createDataSource(a.databaseUrl).initialize();
        await new TypeOrmClientRepository(ds, 86400).update(clientId, { disabledAt: new Date() }, new Date());
        await ds.destroy();
      },
    ],
  ])('ends the open streams of a resource server %s, on every instance', async (_, change) => {
    const rs = await registerResourceServer(API);
    const cursor = await latest();
    const onA = eventReader(await stream(a, rs, cursor));
    const onB = eventReader(await stream(b, rs, cursor));
    try {
      for (const s of [onA, onB]) await s.until((ev) => ev.some((e) => e.event === 'keys'));
      await change(rs.client_id);
      // `until` returns when the stream ends; a stream left open would time out instead.
      for (const s of [onA, onB]) await s.until(() => false, 5000).catch((e: Error) => Promise.reject(new Error(`still open: ${e.message}`)));
      expect((await stream(a, rs, cursor)).status).toBe(401);
    } finally {
      await Promise.all([onA.close(), onB.close()]);
    }
  });
});

it('purges entries that can no longer match an unexpired token, once the clock has passed their expiry', async () => {
  const c = await registerClient(a.url, { access_token_format: 'jwt', resources: [API] });
  const expired = await issue(a, c);
  await revoke(a, c, expired);
  // An hour and a minute (the skew) later on instance A's clock, the first token has expired; a second one has not.
  clockOfA.advance(a.config.tokens.accessTokenTtl + RETIRED_KEY_SKEW_SECONDS + 1);
  const live = await issue(a, c);
  await revoke(a, c, live);
  expect((await a.app.get(Purger).purge())?.revocations).toBeGreaterThanOrEqual(1);
  const jtis = (await page(a, 'after=0')).body.revocations.map((e: { jti?: string }) => e.jti);
  expect(jtis).toContain(decodeJwt(live).jti);
  expect(jtis).not.toContain(decodeJwt(expired).jti);
});

it('lists the feed in the server metadata', async () => {
  const metadata = await (await fetch(`${b.url}/.well-known/oauth-authorization-server`)).json();
  expect(metadata.revocation_feed_endpoint).toBe(`${b.url}/oauth2/revocations`);
});
