// Issue 11: "a token whose response was sent survives a crash", for refresh tokens, whose rotations are committed
// several to a statement (group commit). The built auth server runs in a process of its own on a database of this
// file's own. Refresh-token chains are seeded straight into the database (a user, a grant, its first token each,
// stored by hash as the server stores them), then refreshed in loops at once (oauth4webapi), each loop using the
// token its last answer gave. Once a few hundred refreshes have been answered, the process is killed with SIGKILL
// while refreshes are still in flight. Every refresh token answered 200 must then be stored, under its hash, with
// its family; and after a restart on the same database, each chain goes on from its last answered token, unless a
// refresh in flight at the kill had already rotated it (its next token stored, though never answered: using the
// answered one again is then reuse, which revokes the family, as it must). The test cannot pass vacuously: it
// asserts that requests were in flight when the process died, and that rotations shared commits (the tokens one
// transaction rotated share its `xmin`).
import { hashToken } from '@tessera/oauth-core';
import { createTestDatabase, freePort } from '@tessera/testing';
import { randomBytes, randomUUID } from 'node:crypto';
import * as oauth from 'oauth4webapi';
import pg from 'pg';
import { INITIAL_ACCESS_TOKEN, registerClient, TEST_KEY_ENCRYPTION_KEY } from '../apps/auth-server/test/auth-server.harness.js';
import { insecure } from './support/oauth-client.js';
import { buildIfStale, startApp, stopProcess, untilReady, type NodeProcess } from './support/processes.js';

/** Chains refreshed at once (each a loop of refreshes one after the other). */
const CHAINS = 48;
/** Refreshes answered 200 before the kill. */
const ANSWERED_BEFORE_KILL = 300;
const REQUEST_TIMEOUT_MS = 10_000;

let db: { url: string; drop: () => Promise<void> };
let port: number;
let issuerUrl: string;
const processes: NodeProcess[] = [];

function startAuthServer(): NodeProcess {
  const proc = startApp('auth', 'auth-server', {
    DATABASE_URL: db.url,
    TESSERA_AUTH_PORT: String(port),
    TESSERA_ISSUER: issuerUrl,
    TESSERA_INITIAL_ACCESS_TOKEN: INITIAL_ACCESS_TOKEN,
    TESSERA_KEY_ENCRYPTION_KEY: TEST_KEY_ENCRYPTION_KEY,
  });
  processes.push(proc);
  return proc;
}

async function withDatabase<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  await buildIfStale(['auth-server']);
  db = await createTestDatabase();
  port = await freePort();
  issuerUrl = `http://127.0.0.1:${port}`;
}, 240_000);

afterAll(async () => {
  await Promise.allSettled(processes.map((p) => stopProcess(p)));
  await db?.drop();
}, 60_000);

it('keeps every refresh token answered 200 before the server was killed during group-committed rotations', async () => {
  let auth = startAuthServer();
  await untilReady(auth, issuerUrl);
  const as: oauth.AuthorizationServer = { issuer: issuerUrl, token_endpoint: `${issuerUrl}/oauth2/token` };
  const registered = await registerClient(issuerUrl, {
    client_name: 'crash refresh', access_token_format: 'opaque', grant_types: ['authorization_code', 'refresh_token'], redirect_uris: ['https://app.example/cb'], scope: 'notes:read',
  });
  const client: oauth.Client = { client_id: registered.client_id };
  const clientAuth = oauth.ClientSecretBasic(registered.client_secret);

  // CHAINS users, each with a grant and its first refresh token.
  const firsts = Array.from({ length: CHAINS }, () => `tsr_rt_${randomBytes(32).toString('base64url')}`);
  const families = firsts.map(() => randomUUID());
  await withDatabase(async (admin) => {
    for (const [i, token] of firsts.entries()) {
      const userId = randomUUID();
      await admin.query(`INSERT INTO users (id, username, username_key, password_hash) VALUES ($1, $2, $2, 'unused')`, [userId, `crash-${userId}`]);
      await admin.query(
        `INSERT INTO refresh_tokens (token_hash, family_id, client_id, subject, scopes, audience, grant_id, issued_at, family_issued_at, expires_at)
         VALUES ($1, $2, $3, $4, '{notes:read}', '{}', $2, now(), now(), now() + interval '1 day')`,
        [hashToken(token), families[i], registered.client_id, userId],
      );
    }
  });

  // The load: a loop per chain, each refresh with the token the last answer gave, until the process is killed.
  const answered: { chain: number; token: string }[] = [];
  const latest = [...firsts];
  const otherAnswers: string[] = [];
  let killed = false;
  let unanswered = 0;
  let reachedTarget!: () => void;
  const target = new Promise<void>((r) => (reachedTarget = r));
  const loop = async (chain: number) => {
    while (!killed) {
      let response: Response;
      try {
        response = await oauth.refreshTokenGrantRequest(as, client, clientAuth, latest[chain], { ...insecure, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
      } catch {
        if (killed) unanswered++;
        else otherAnswers.push('no answer before the kill');
        return;
      }
      if (response.status !== 200) {
        otherAnswers.push(`${response.status} ${await response.text()}`);
        return;
      }
      const { refresh_token } = await oauth.processRefreshTokenResponse(as, client, response);
      latest[chain] = refresh_token!;
      answered.push({ chain, token: refresh_token! });
      if (answered.length >= ANSWERED_BEFORE_KILL) reachedTarget();
    }
  };
  const loops = firsts.map((_, chain) => loop(chain));
  await Promise.race([target, Promise.all(loops)]);
  killed = true;
  process.kill(auth.pid, 'SIGKILL');
  expect(await auth.closed).toEqual({ code: null, signal: 'SIGKILL' });
  await Promise.all(loops);

  expect(otherAnswers).toEqual([]);
  expect(answered.length).toBeGreaterThanOrEqual(ANSWERED_BEFORE_KILL);
  expect(unanswered).toBeGreaterThan(0);

  // Every refresh token answered 200 is stored, in its chain's family; and rotations shared commits.
  const { stored, largestCommit, rotatedLatest } = await withDatabase(async (admin) => {
    const hashes = answered.map((a) => hashToken(a.token));
    const rows = (await admin.query<{ token_hash: string; family_id: string }>('SELECT token_hash, family_id FROM refresh_tokens WHERE token_hash = ANY($1)', [hashes])).rows;
    const commits = await admin.query<{ largest: number }>(
      // Rotated tokens by the transaction that rotated them (its xmin, as it updated them last): a lone rotation
      // rotates one token, a shared statement several.
      'SELECT max(n)::int AS largest FROM (SELECT count(*) AS n FROM refresh_tokens WHERE rotated_at IS NOT NULL GROUP BY xmin::text) AS commits',
    );
    const rotated = await admin.query<{ token_hash: string }>('SELECT token_hash FROM refresh_tokens WHERE token_hash = ANY($1) AND rotated_at IS NOT NULL', [latest.map(hashToken)]);
    return { stored: new Map(rows.map((r) => [r.token_hash, r.family_id])), largestCommit: commits.rows[0].largest, rotatedLatest: new Set(rotated.rows.map((r) => r.token_hash)) };
  });
  const lost = answered.filter((a) => stored.get(hashToken(a.token)) !== families[a.chain]);
  expect(lost).toEqual([]);
  expect(largestCommit).toBeGreaterThan(1);

  // Restarted on the same database and port: each chain goes on from its last answered token, but for those that a
  // refresh in flight at the kill had rotated already (a reuse now: invalid_grant).
  auth = startAuthServer();
  await untilReady(auth, issuerUrl);
  const outcomes = await Promise.all(
    latest.map(async (token) => (await oauth.refreshTokenGrantRequest(as, client, clientAuth, token, insecure)).status),
  );
  const expected = latest.map((token) => (rotatedLatest.has(hashToken(token)) ? 400 : 200));
  expect(outcomes).toEqual(expected);
  expect(expected.filter((s) => s === 200).length).toBeGreaterThan(0);
  console.log(
    `refresh crash: ${answered.length} refreshes answered 200 before the kill, ${unanswered} unanswered, largest commit ${largestCommit} rotations, ` +
      `${lost.length} lost, ${rotatedLatest.size} chains rotated by a refresh never answered`,
  );
}, 180_000);
