// Purges (issue 12, point 5): a large backlog of expired rows goes in small batches while requests keep being
// served, only rows that can no longer matter go, two instances sharing the database never purge at once, and a
// revocation-feed reader whose cursor points before entries purged at the end of the log is moved past them
// (or its first heartbeat would look like a gap, and it would resync forever).
import { CHANGE_CHANNEL, REVOCATION_LOG_LOCK } from '@tessera/persistence';
import pg from 'pg';
import { Purger } from '../src/maintenance/purger.js';
import { basicAuth, postForm, registerClient, startAuthServer, type RunningAuthServer } from './auth-server.harness.js';

type Registered = { client_id: string; client_secret: string };

const API = 'https://api.example';
/** Rows of each kind in the expired backlog. */
const BACKLOG = 20_000;

let a: RunningAuthServer;
let b: RunningAuthServer;
let db: pg.Client;
let jwtClient: Registered;
let opaqueClient: Registered;
let reader: Registered;

beforeAll(async () => {
  // Heartbeats every 250 ms, and no purge on the timer: the test purges when it chooses.
  const env = { TESSERA_REVOCATION_FEED_HEARTBEAT: '0.25', TESSERA_REVOCATION_PURGE_INTERVAL: '86400' };
  a = await startAuthServer({ env });
  b = await startAuthServer({ databaseUrl: a.databaseUrl, env: { ...env, TESSERA_ISSUER: a.config.issuer.url } });
  db = new pg.Client({ connectionString: a.databaseUrl });
  await db.connect();
  jwtClient = await registerClient(a.url, { access_token_format: 'jwt', resources: [API] });
  opaqueClient = await registerClient(a.url, { access_token_format: 'opaque', resources: [API] });
  reader = await registerClient(a.url, { client_name: 'resource server', scope: '', resource_server_for: [API] });
}, 60_000);

afterAll(async () => {
  await db?.end();
  await b?.stop();
  await a?.stop();
});

const count = async (sql: string, params: unknown[] = []) => Number((await db.query<{ n: string }>(sql, params)).rows[0].n);

async function issue(server: RunningAuthServer, c: Registered): Promise<{ status: number; token?: string }> {
  const res = await postForm(`${server.url}/oauth2/token`, { grant_type: 'client_credentials' }, { authorization: basicAuth(c.client_id, c.client_secret) });
  return { status: res.status, token: (await res.json()).access_token };
}

async function introspect(server: RunningAuthServer, c: Registered, token: string): Promise<{ status: number; active?: boolean }> {
  const res = await postForm(`${server.url}/oauth2/introspect`, { token }, { authorization: basicAuth(c.client_id, c.client_secret) });
  return { status: res.status, active: (await res.json()).active };
}

async function revoke(server: RunningAuthServer, c: Registered, token: string): Promise<number> {
  return (await postForm(`${server.url}/oauth2/revoke`, { token }, { authorization: basicAuth(c.client_id, c.client_secret) })).status;
}

/** The backlog: BACKLOG rows of every kind, all long past any use, written as a busy server would have left them. */
async function insertBacklog(): Promise<void> {
  const client = opaqueClient.client_id;
  const user = await a.services.users.create(`purge-user-${Date.now()}`, 'a long enough password');
  await db.query(
    `INSERT INTO access_tokens (token_hash, jti, client_id, issuer, subject, audience, scopes, issued_at, expires_at)
     SELECT 'old-at-' || i, 'old-at-' || i, $1, 'x', 's', '{}', '{}', now() - interval '3 days', now() - interval '2 days'
     FROM generate_series(1, $2) i`,
    [client, BACKLOG],
  );
  await db.query(
    `INSERT INTO refresh_tokens (token_hash, family_id, client_id, subject, scopes, audience, issued_at, family_issued_at, expires_at)
     SELECT 'old-rt-' || i, gen_random_uuid(), $1, 's', '{}', '{}', now() - interval '60 days', now() - interval '60 days', now() - interval '30 days'
     FROM generate_series(1, $2) i`,
    [client, BACKLOG],
  );
  await db.query(
    `INSERT INTO authorization_codes (code_hash, client_id, subject, redirect_uri, code_challenge, code_challenge_method, scopes, audience, issued_at, expires_at)
     SELECT 'old-code-' || i, $1, 's', 'https://x', 'c', 'S256', '{}', '{}', now() - interval '1 day', now() - interval '1 day'
     FROM generate_series(1, $2) i`,
    [client, BACKLOG],
  );
  await db.query(
    `INSERT INTO sessions (id, token_hash, user_id, created_at, expires_at)
     SELECT gen_random_uuid(), 'old-session-' || i, $1, now() - interval '2 days', now() - interval '1 day' FROM generate_series(1, $2) i`,
    [user.id, BACKLOG],
  );
  await db.query(`INSERT INTO sign_in_failures (key, failed_at) SELECT 'addr:' || i, now() - interval '1 day' FROM generate_series(1, $1) i`, [BACKLOG]);
  await db.query(
    `INSERT INTO revocations (kind, jti, client_id, expires_at, revoked_at)
     SELECT 'token', 'old-rev-' || i, $1, now() - interval '1 day', now() - interval '2 days' FROM generate_series(1, $2) i`,
    [client, BACKLOG],
  );
}

/** Rows that must survive: they can still matter (still valid, or still needed to detect reuse or to revoke). */
async function insertKeepers(): Promise<void> {
  const client = opaqueClient.client_id;
  await db.query(
    `INSERT INTO access_tokens (token_hash, jti, client_id, issuer, subject, audience, scopes, issued_at, expires_at) VALUES
       ('keep-at-live', 'keep-at-live', $1, 'x', 's', '{}', '{}', now(), now() + interval '1 hour'),
       -- expired a moment ago: within the skew a resource server may still accept it
       ('keep-at-skew', 'keep-at-skew', $1, 'x', 's', '{}', '{}', now() - interval '1 hour', now() - interval '5 seconds')`,
    [client],
  );
  // A family with an expired, rotated token and a live one: a reuse of the first must still revoke the family.
  await db.query(
    `INSERT INTO refresh_tokens (token_hash, family_id, client_id, subject, scopes, audience, issued_at, family_issued_at, expires_at, rotated_at) VALUES
       ('keep-rt-rotated', '00000000-0000-4000-8000-000000000001', $1, 's', '{}', '{}', now() - interval '40 days', now() - interval '40 days', now() - interval '10 days', now() - interval '20 days'),
       ('keep-rt-live', '00000000-0000-4000-8000-000000000001', $1, 's', '{}', '{}', now() - interval '20 days', now() - interval '40 days', now() + interval '10 days', NULL)`,
    [client],
  );
  // A code redeemed yesterday: used again, it must still revoke the tokens of its grant.
  await db.query(
    `INSERT INTO authorization_codes (code_hash, client_id, subject, redirect_uri, code_challenge, code_challenge_method, scopes, audience, issued_at, expires_at, redeemed_at)
     VALUES ('keep-code-redeemed', $1, 's', 'https://x', 'c', 'S256', '{}', '{}', now() - interval '1 day', now() - interval '1 day', now() - interval '1 day')`,
    [client],
  );
  await db.query(`INSERT INTO sign_in_failures (key, failed_at) VALUES ('keep-addr', now() - interval '1 minute')`);
  await db.query(
    `INSERT INTO revocations (kind, jti, client_id, expires_at, revoked_at) VALUES
       ('token', 'keep-rev-live', $1, now() + interval '1 hour', now()),
       ('token', 'keep-rev-skew', $1, now() - interval '5 seconds', now() - interval '1 minute')`,
    [client],
  );
}

it('purges a large backlog in batches, one instance at a time, while requests keep succeeding, and only what can no longer matter', async () => {
  await insertBacklog();
  await insertKeepers();
  const issuedBefore = await issue(a, opaqueClient);
  expect(issuedBefore.status).toBe(200);

  // Load: issuance of both formats, introspection and revocation, on both instances, for as long as the purge runs.
  let purging = true;
  const outcomes: string[] = [];
  const live: { client: Registered; token: string }[] = [];
  const load = async (server: RunningAuthServer) => {
    while (purging) {
      for (const client of [opaqueClient, jwtClient]) {
        const issued = await issue(server, client);
        outcomes.push(`issue ${issued.status}`);
        if (!issued.token) continue;
        const seen = await introspect(server, client, issued.token);
        outcomes.push(`introspect ${seen.status} ${seen.active}`);
        if (live.length % 2 === 0) outcomes.push(`revoke ${await revoke(server, client, issued.token)}`);
        else live.push({ client, token: issued.token });
      }
    }
  };
  const loads = [load(a), load(b), load(a), load(b)];
  const results = await Promise.all([a.app.get(Purger).purge(), b.app.get(Purger).purge()]).finally(() => (purging = false));
  await Promise.all(loads);

  // Exactly one instance purged; the other found the lock taken and skipped.
  expect(results.filter((r) => r === null)).toHaveLength(1);
  const purged = results.find((r) => r !== null)!;
  expect(purged).toEqual({
    accessTokens: BACKLOG,
    refreshTokenFamilies: BACKLOG,
    unredeemedCodes: BACKLOG,
    redeemedCodes: 0,
    sessions: BACKLOG,
    signInFailures: BACKLOG,
    revocations: BACKLOG,
  });
  // Every request during the purge succeeded.
  expect(outcomes.length).toBeGreaterThan(0);
  expect(outcomes.filter((o) => !['issue 200', 'introspect 200 true', 'revoke 200'].includes(o))).toEqual([]);

  // What can still matter is all there.
  expect(await count(`SELECT count(*) AS n FROM access_tokens WHERE token_hash LIKE 'old-%'`)).toBe(0);
  expect(await count(`SELECT count(*) AS n FROM access_tokens WHERE token_hash IN ('keep-at-live', 'keep-at-skew')`)).toBe(2);
  expect(await count(`SELECT count(*) AS n FROM refresh_tokens WHERE token_hash IN ('keep-rt-rotated', 'keep-rt-live')`)).toBe(2);
  expect(await count(`SELECT count(*) AS n FROM authorization_codes WHERE code_hash = 'keep-code-redeemed'`)).toBe(1);
  expect(await count(`SELECT count(*) AS n FROM sign_in_failures WHERE key = 'keep-addr'`)).toBe(1);
  expect(await count(`SELECT count(*) AS n FROM revocations WHERE jti IN ('keep-rev-live', 'keep-rev-skew')`)).toBe(2);
  for (const server of [a, b]) expect(await introspect(server, opaqueClient, issuedBefore.token!)).toEqual({ status: 200, active: true });
  for (const { client, token } of live.slice(0, 20)) expect(await introspect(a, client, token)).toEqual({ status: 200, active: true });

  // Nothing left to purge: the next purge (on either instance) deletes nothing.
  expect(Object.values((await b.app.get(Purger).purge())!).every((n) => n === 0)).toBe(true);
}, 120_000);

type StreamEvent = { event: string; id?: string; data: Record<string, unknown> };

/** Reads a feed stream from `after` until its first heartbeat; the events up to it. */
async function untilHeartbeat(server: RunningAuthServer, after: string): Promise<StreamEvent[]> {
  const res = await fetch(`${server.url}/oauth2/revocations?after=${after}`, {
    headers: { accept: 'text/event-stream', authorization: basicAuth(reader.client_id, reader.client_secret) },
  });
  expect(res.status).toBe(200);
  const events: StreamEvent[] = [];
  const stream = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  try {
    while (!events.some((e) => e.event === 'heartbeat')) {
      const chunk = await stream.read();
      if (chunk.done) throw new Error(`the stream ended: ${JSON.stringify(events)}`);
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
  } finally {
    await stream.cancel();
  }
}

/** The follower's gap check (RevocationFeedFollower): the heartbeat's latest_seq must not be past the stream's last id. */
function lastSeen(events: StreamEvent[], after: string): bigint {
  return events.filter((e) => e.id !== undefined).reduce((max, e) => (BigInt(e.id!) > max ? BigInt(e.id!) : max), BigInt(after));
}

it('moves a feed reader with an old cursor past entries purged at the end of the log, so its heartbeat shows no gap', async () => {
  const before = String(await count(`SELECT coalesce(max(seq), 0) AS n FROM revocations`));
  // Entries at the end of the log that have expired (inserted as appends are: under the log's lock, then NOTIFY).
  await db.query('BEGIN');
  await db.query('SELECT pg_advisory_xact_lock($1)', [REVOCATION_LOG_LOCK]);
  await db.query(
    `INSERT INTO revocations (kind, jti, client_id, expires_at, revoked_at)
     SELECT 'token', 'tail-' || i, $1, now() - interval '1 day', now() - interval '2 days' FROM generate_series(1, 5) i`,
    [jwtClient.client_id],
  );
  await db.query('SELECT pg_notify($1, $2)', [CHANGE_CHANNEL, 'revocation']);
  await db.query('COMMIT');
  const tail = String(await count(`SELECT max(seq) AS n FROM revocations`));
  // Both instances have read them (their heartbeats say so) before they are purged.
  for (const server of [a, b]) {
    for (;;) {
      const heartbeat = (await untilHeartbeat(server, tail)).find((e) => e.event === 'heartbeat')!;
      if (BigInt(heartbeat.data.latest_seq as string) >= BigInt(tail)) break;
    }
  }
  expect((await a.app.get(Purger).purge())?.revocations).toBe(5);

  for (const server of [a, b]) {
    const events = await untilHeartbeat(server, before);
    const heartbeat = events.find((e) => e.event === 'heartbeat')!;
    expect(BigInt(heartbeat.data.latest_seq as string)).toBe(BigInt(tail));
    expect(lastSeen(events, before)).toBeGreaterThanOrEqual(BigInt(tail));
    expect(events.filter((e) => e.event === 'revocation')).toEqual([]);
  }
}, 60_000);
