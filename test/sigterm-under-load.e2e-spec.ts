// Issue 12, point 5: "SIGTERM during load losing no accepted request". The built auth server (dist/..., built
// first when missing or older than the sources) runs in a process of its own; a second instance runs beside it on
// the same database (in this process). Many clients issue tokens of both formats from the first and revoke some
// of them there, over keep-alive connections, as real clients do. Once a few hundred have been answered, the first
// gets SIGTERM while requests are in flight. Then:
// - every request in flight at SIGTERM got a complete response (served, or refused with 503);
// - every refusal was clean: 503 temporarily_unavailable, or the connection refused, or a keep-alive connection
//   closed while idle (HTTP/1.1's inherent race: a request written as the server closes an idle connection is
//   reset before the server has read a byte of it, so it was never accepted); never another 5xx, never a
//   connection cut in the middle of a response;
// - every token answered 200 is active at the second instance (unless its revocation was answered 200), and every
//   revocation answered 200 is in effect there, for opaque tokens and JWTs alike;
// - the process exited cleanly.
import http from 'node:http';
import { freePort, createTestDatabase } from '@tessera/testing';
import {
  basicAuth,
  INITIAL_ACCESS_TOKEN,
  registerClient,
  startAuthServer as startInProcess,
  TEST_KEY_ENCRYPTION_KEY,
  type RunningAuthServer,
} from '../apps/auth-server/test/auth-server.harness.js';
import { buildIfStale, startApp, stopProcess, untilReady, type NodeProcess } from './support/processes.js';

type Registered = { client_id: string; client_secret: string };
const RESOURCE = 'http://notes.tessera.test';
const CONCURRENCY = 32;
/** Requests answered 200 before SIGTERM. */
const ANSWERED_BEFORE_SIGTERM = 300;


let db: { url: string; drop: () => Promise<void> };
let port: number;
let issuerUrl: string;
let auth: NodeProcess | undefined;
let second: RunningAuthServer | undefined;

beforeAll(async () => {
  await buildIfStale(['auth-server']);
  db = await createTestDatabase();
  port = await freePort();
  issuerUrl = `http://127.0.0.1:${port}`;
}, 240_000);

afterAll(async () => {
  if (auth) await stopProcess(auth);
  await second?.stop();
  await db?.drop();
}, 60_000);


/** How a request ended, as its client saw it. */
type Outcome =
  | { kind: 'response'; status: number; body: Record<string, unknown>; headers: http.IncomingHttpHeaders }
  /** No connection: nothing listens any more. */
  | { kind: 'refused' }
  /** The connection closed (or was reset) before any byte of a response: the request was never read. */
  | { kind: 'closed-before-response'; code: string }
  /** The connection broke after the response had begun. */
  | { kind: 'cut-mid-response'; code: string }
  | { kind: 'timeout' };

const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });

function post(path: string, form: Record<string, string>, c: Registered): Promise<Outcome> {
  const body = new URLSearchParams(form).toString();
  return new Promise<Outcome>((resolve) => {
    let settled = false;
    const done = (outcome: Outcome) => {
      if (!settled) resolve(outcome);
      settled = true;
    };
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        agent,
        headers: {
          authorization: basicAuth(c.client_id, c.client_secret),
          'content-type': 'application/x-www-form-urlencoded',
          'content-length': Buffer.byteLength(body),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', (e: NodeJS.ErrnoException) => done({ kind: 'cut-mid-response', code: e.code ?? e.message }));
        res.on('aborted', () => done({ kind: 'cut-mid-response', code: 'aborted' }));
        res.on('end', () => {
          if (!res.complete) return done({ kind: 'cut-mid-response', code: 'incomplete' });
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: Record<string, unknown>;
          try {
            parsed = text ? JSON.parse(text) : {};
          } catch {
            parsed = { unparsable: text.slice(0, 200) };
          }
          done({ kind: 'response', status: res.statusCode!, body: parsed, headers: res.headers });
        });
      },
    );
    req.setTimeout(20_000, () => {
      done({ kind: 'timeout' });
      req.destroy();
    });
    req.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ECONNREFUSED') done({ kind: 'refused' });
      else done({ kind: 'closed-before-response', code: e.code ?? e.message });
    });
    req.end(body);
  });
}

/** A clean refusal: the RFC 6749 error every refusal of a stopping server is. */
function cleanRefusal(outcome: Outcome): boolean {
  if (outcome.kind === 'refused' || outcome.kind === 'closed-before-response') return true;
  return outcome.kind === 'response' && outcome.status === 503 && outcome.body.error === 'temporarily_unavailable';
}

it('loses no request answered 200 when SIGTERM arrives under load, and refuses the rest cleanly', async () => {
  auth = startApp('auth', 'auth-server', {
    DATABASE_URL: db.url,
    TESSERA_AUTH_PORT: String(port),
    TESSERA_ISSUER: issuerUrl,
    TESSERA_INITIAL_ACCESS_TOKEN: INITIAL_ACCESS_TOKEN,
    TESSERA_KEY_ENCRYPTION_KEY: TEST_KEY_ENCRYPTION_KEY,
  });
  await untilReady(auth, issuerUrl);
  // The second instance: same database, same issuer, same key-encryption key.
  second = await startInProcess({ databaseUrl: db.url, env: { TESSERA_ISSUER: issuerUrl } });
  const api = await registerClient(issuerUrl, { client_name: 'notes api', scope: '', resource_server_for: [RESOURCE] });
  const clients = {
    opaque: await registerClient(issuerUrl, { access_token_format: 'opaque', scope: 'notes:read', resources: [RESOURCE] }),
    jwt: await registerClient(issuerUrl, { access_token_format: 'jwt', scope: 'notes:read', resources: [RESOURCE] }),
  };

  let sigtermAt = Infinity;
  let answered = 0;
  let reachedTarget!: () => void;
  const target = new Promise<void>((r) => (reachedTarget = r));
  /** Tokens answered 200, and whether a revocation of them was answered 200 ('unclear': asked, and no answer came). */
  const issued: { token: string; format: 'opaque' | 'jwt'; revoked: boolean | 'unclear' }[] = [];
  const inFlightAtSigterm: Outcome[] = [];
  const refusals: Outcome[] = [];
  const unclean: string[] = [];

  const send = async (path: string, form: Record<string, string>, c: Registered): Promise<Outcome> => {
    const started = performance.now();
    const outcome = await post(path, form, c);
    const inFlight = started < sigtermAt && performance.now() > sigtermAt;
    if (inFlight) inFlightAtSigterm.push(outcome);
    if (outcome.kind === 'response' && outcome.status === 200) {
      answered++;
      if (answered >= ANSWERED_BEFORE_SIGTERM) reachedTarget();
    } else if (cleanRefusal(outcome)) {
      refusals.push(outcome);
    } else {
      unclean.push(`${path}: ${JSON.stringify(outcome).slice(0, 300)}`);
    }
    return outcome;
  };

  const loop = async (n: number) => {
    for (let i = 0; ; i++) {
      const format = (n + i) % 2 === 0 ? 'opaque' : 'jwt';
      const c = clients[format];
      const outcome = await send('/oauth2/token', { grant_type: 'client_credentials' }, c);
      if (outcome.kind !== 'response') return; // the server is gone (or going): this client stops
      if (outcome.status !== 200) continue;
      const record: (typeof issued)[number] = { token: outcome.body.access_token as string, format, revoked: false };
      issued.push(record);
      if (i % 3 !== 0) continue;
      const revocation = await send('/oauth2/revoke', { token: record.token }, c);
      // Refused with 503: not revoked. No answer at all: either way, so not checked.
      record.revoked = revocation.kind === 'response' ? revocation.status === 200 : 'unclear';
      if (revocation.kind !== 'response') return;
    }
  };
  const loops = Array.from({ length: CONCURRENCY }, (_, n) => loop(n));
  await Promise.race([target, Promise.all(loops)]);
  sigtermAt = performance.now();
  process.kill(auth.pid, 'SIGTERM');
  const exit = await auth.closed;
  await Promise.all(loops);
  agent.destroy();

  // The process stopped by itself, cleanly.
  expect(exit.signal === 'SIGTERM' || exit.code === 0).toBe(true);
  expect(auth.output.filter((line) => /ERROR|Unhandled|uncaught/i.test(line))).toEqual([]);
  // Nothing unclean; requests were really in flight at SIGTERM, and each got a complete response.
  expect(unclean).toEqual([]);
  expect(inFlightAtSigterm.length).toBeGreaterThan(0);
  expect(inFlightAtSigterm.filter((o) => o.kind !== 'response').map((o) => JSON.stringify(o))).toEqual([]);
  expect(issued.length).toBeGreaterThanOrEqual(ANSWERED_BEFORE_SIGTERM / 2);

  // Durable: at the second instance every token answered 200 is active, unless its revocation was answered 200.
  const lost: string[] = [];
  const queue = [...issued];
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let record = queue.pop(); record !== undefined; record = queue.pop()) {
        if (record.revoked === 'unclear') continue;
        const res = await fetch(`${second!.url}/oauth2/introspect`, {
          method: 'POST',
          headers: { authorization: basicAuth(api.client_id, api.client_secret), 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ token: record.token }).toString(),
        });
        const { active } = (await res.json()) as { active: boolean };
        const expected = record.revoked !== true;
        if (res.status !== 200 || active !== expected) lost.push(`${record.format} ${record.revoked ? 'revoked' : 'issued'}: active=${active}`);
      }
    }),
  );
  const revoked = issued.filter((r) => r.revoked === true);
  console.log(
    `SIGTERM under load: ${issued.length} tokens answered 200 (${revoked.length} revoked with 200), ` +
      `${inFlightAtSigterm.length} requests in flight at SIGTERM, refusals: ${JSON.stringify(countKinds(refusals))}, ${lost.length} lost`,
  );
  expect(revoked.some((r) => r.format === 'jwt') && revoked.some((r) => r.format === 'opaque')).toBe(true);
  expect(lost).toEqual([]);
}, 240_000);

function countKinds(outcomes: Outcome[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const o of outcomes) {
    const key = o.kind === 'response' ? `${o.status}` : o.kind === 'closed-before-response' ? `closed-before-response ${o.code}` : o.kind;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}
