// Issue 11: "a test that kills the server process during group commits and checks that every token answered
// 200 is then found by introspection." The built auth server (dist/..., built first when missing or older than
// the sources) runs in a process of its own on a database of this file's own. Many client_credentials requests
// for opaque tokens run at once (oauth4webapi), so that concurrent issuances share multi-row INSERTs; once a
// few hundred have been answered, the process is killed with SIGKILL while requests are still in flight. It is
// restarted on the same database and port, and every token that had been answered 200 is introspected by the
// resource server of its audience (RFC 7662): each must be active. Lost tokens are counted and must be zero.
// The test cannot pass vacuously: it also asserts that requests were in flight when the process died (some got
// no answer), and that rows really were committed several to a transaction (rows sharing an `xmin` in
// access_tokens: read from PostgreSQL, nothing exposed by the server for this).
import { createTestDatabase, freePort } from '@tessera/testing';
import * as oauth from 'oauth4webapi';
import pg from 'pg';
import { INITIAL_ACCESS_TOKEN, registerClient, TEST_KEY_ENCRYPTION_KEY } from '../apps/auth-server/test/auth-server.harness.js';
import { insecure } from './support/oauth-client.js';
import { buildIfStale, startApp, stopProcess, untilReady, type NodeProcess } from './support/processes.js';

const RESOURCE = 'http://notes.tessera.test';
/** Requests in flight at any time (each a loop of requests one after the other). */
const CONCURRENCY = 64;
/** Tokens answered 200 before the kill. */
const ANSWERED_BEFORE_KILL = 400;
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

it('finds by introspection every opaque token answered 200 before the server was killed during group commits', async () => {
  let auth = startAuthServer();
  await untilReady(auth, issuerUrl);
  const as: oauth.AuthorizationServer = {
    issuer: issuerUrl,
    token_endpoint: `${issuerUrl}/oauth2/token`,
    introspection_endpoint: `${issuerUrl}/oauth2/introspect`,
  };
  const api = await registerClient(issuerUrl, { client_name: 'notes api', scope: '', resource_server_for: [RESOURCE] });
  const registered = await registerClient(issuerUrl, { client_name: 'crash opaque', access_token_format: 'opaque', scope: 'notes:read' });
  const client: oauth.Client = { client_id: registered.client_id };
  const clientAuth = oauth.ClientSecretBasic(registered.client_secret);

  // The load: CONCURRENCY loops of token requests, until the process is killed.
  const answered: string[] = [];
  const otherAnswers: string[] = [];
  let killed = false;
  /** Requests sent before the kill that got no answer at all (the connection died under them). */
  let unanswered = 0;
  let reachedTarget!: () => void;
  const target = new Promise<void>((r) => (reachedTarget = r));
  const loop = async () => {
    while (!killed) {
      let response: Response;
      try {
        response = await oauth.clientCredentialsGrantRequest(as, client, clientAuth, { resource: RESOURCE }, {
          ...insecure,
          signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        });
      } catch {
        if (killed) unanswered++;
        else otherAnswers.push('no answer before the kill');
        return;
      }
      if (response.status !== 200) {
        otherAnswers.push(`${response.status} ${await response.text()}`);
        continue;
      }
      const { access_token } = await oauth.processClientCredentialsResponse(as, client, response);
      answered.push(access_token);
      if (answered.length >= ANSWERED_BEFORE_KILL) reachedTarget();
    }
  };
  const loops = Array.from({ length: CONCURRENCY }, loop);
  await Promise.race([target, Promise.all(loops)]);
  killed = true;
  process.kill(auth.pid, 'SIGKILL');
  expect(await auth.closed).toEqual({ code: null, signal: 'SIGKILL' });
  await Promise.all(loops);
  // A response can still have arrived between `killed = true` and the process's death: it counts as answered.
  const answeredTokens = [...answered];

  // The kill happened mid-stream: requests were in flight and never answered; nothing else went wrong.
  expect(otherAnswers).toEqual([]);
  expect(answeredTokens.length).toBeGreaterThanOrEqual(ANSWERED_BEFORE_KILL);
  expect(unanswered).toBeGreaterThan(0);
  // ... and tokens were committed several to a transaction (group commit), not one by one.
  const admin = new pg.Client({ connectionString: db.url });
  await admin.connect();
  let largestCommit: number;
  try {
    const { rows } = await admin.query<{ largest: number }>(
      'SELECT max(n)::int AS largest FROM (SELECT count(*) AS n FROM access_tokens GROUP BY xmin::text) AS commits',
    );
    largestCommit = rows[0].largest;
  } finally {
    await admin.end();
  }
  expect(largestCommit).toBeGreaterThan(1);

  // Restarted on the same database and port: every token answered 200 is active, for the resource server of its audience.
  auth = startAuthServer();
  await untilReady(auth, issuerUrl);
  const resourceServer: oauth.Client = { client_id: api.client_id };
  const resourceServerAuth = oauth.ClientSecretBasic(api.client_secret);
  const lost: string[] = [];
  const queue = [...answeredTokens];
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      for (let token = queue.pop(); token !== undefined; token = queue.pop()) {
        const response = await oauth.introspectionRequest(as, resourceServer, resourceServerAuth, token, insecure);
        const claims = await oauth.processIntrospectionResponse(as, resourceServer, response);
        if (claims.active !== true) lost.push(token.slice(0, 12));
      }
    }),
  );
  console.log(
    `group commit crash: ${answeredTokens.length} tokens answered 200 before the kill, ${unanswered} requests unanswered, ` +
      `largest commit ${largestCommit} rows, ${lost.length} lost`,
  );
  expect(lost).toEqual([]);
}, 180_000);
