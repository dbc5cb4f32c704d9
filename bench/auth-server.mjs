// The auth-server benchmark (issue 11), on 127.0.0.1 only: the built auth server on a PostgreSQL of its own, and
// beside it, in the same run, bare Fastify baselines (bench/baseline-server.mjs, a process of its own, the same
// libraries: fastify, pg, jose) doing one piece of the work each: one INSERT of a token-sized row, one SELECT by
// primary key, one ES256 signature. Their pg pool is the auth server's size.
// Scenarios, each against its baseline:
//   client_credentials, opaque (INSERT) and JWT (ES256); introspection by a resource server of an active opaque
//   token, of a JWT and of an unknown token (SELECT); revocation of an opaque token and of a JWT (INSERT), each
//   request a different token minted before the round; a refresh with rotation (INSERT), each refresh token used
//   once (a pool from code flows, which each refresh's answer refills with its rotated token); opaque issuance with
//   the rate limits on, from a second auth server (against the first), which runs only for that scenario's
//   measurements.
// The apps' output goes to files (BenchRun), never read by this process, which runs the load, while they run.
// Every scenario and baseline runs at BENCH_CONNECTIONS (32), and opaque issuance and introspection, with their
// baselines, also at BENCH_AUTH_LEVELS (8,128). BENCH_ROUNDS rounds (3) of BENCH_SECONDS (4) per measurement,
// after one warm-up of BENCH_WARMUP_SECONDS (1) each; each round starts at a later place in the list, and the
// ratios are medians of per-round ratios, so that a noisy moment hits a scenario and its baseline alike.
// Reported per measurement: req/s, ratio to the baseline, p50 / p99, non-2xx, errors and failed checks (every
// 50th 2xx answer is checked, and a few tokens per measurement afterwards by introspection), the server's CPU
// milliseconds per request (/proc), PostgreSQL's and the load generator's (this process's), its peak RSS (VmHWM, reset before each measurement). Written to
// bench/RESULTS.md and printed.
//   node bench/run.mjs auth-server          (after `npm run build`)
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { codeFlow, createUser, REDIRECT_URI, rememberConsent, signIn } from './code-flow.mjs';
import { AUTH_MAIN, autocannonRun, basic, BenchRun, cpuSeconds, freePort, interrupted, median, memoryBytes, register, resetPeakRss, ROOT, until } from './lib.mjs';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 1);
/**
 * The warm-up of a server started for one measurement (the rate-limited one): longer, since its code has not run yet
 * (with 1 s, its CPU per request came out 0.15 to 0.20 ms against 0.12 to 0.15 ms with 3 s, in the same runs).
 */
const FRESH_WARMUP_SECONDS = Math.max(3, WARMUP_SECONDS);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const MORE_LEVELS = (process.env.BENCH_AUTH_LEVELS ?? '8,128').split(',').filter(Boolean).map(Number);
/** Revocation tokens minted for one measurement: at most this many (the run then stops when they are used up). */
const REVOCATION_POOL_MAX = Number(process.env.BENCH_REVOCATION_POOL_MAX ?? 40_000);
/** Every SAMPLE_EVERY-th 2xx answer of a measurement (the first included) is parsed and checked. */
const SAMPLE_EVERY = 50;
/** Tokens checked by introspection after each measurement that issues or revokes them. */
const AFTER_CHECKS = 5;
/** Distinct tokens an introspection (or SELECT) measurement cycles through. */
const CYCLED_TOKENS = 1000;
/** The RFC 8707 audience of every token, and the resource server's: never reached. */
const AUDIENCE = 'http://api.bench.test';
const RESULTS = resolve(ROOT, 'bench/RESULTS.md');
const MACHINE = '2 cores shared, load generator on the same cores';

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const OPAQUE_SHAPE = /^tsr_at_[A-Za-z0-9_-]{43}$/;
const JWS_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const REFRESH_IN_BODY = /"refresh_token":"([^"]+)"/;

/** The issue's targets, judged at CONNECTIONS: ratio to the scenario's baseline, p99 of every scenario, peak RSS. */
const RATIO_TARGETS = {
  'client_credentials, opaque': 1.2,
  'introspection, active opaque': 0.8,
  'revocation, opaque': 0.6,
  'revocation, JWT': 0.6,
  'client_credentials, JWT': 0.9,
};
const P99_TARGET_MS = 25;
/** The rate limits of the 'rate limits on' instance: on, every limit at its highest (never reached here). */
const HIGH_RATE_LIMITS = Object.fromEntries([
  ['TESSERA_RATE_LIMITS', '1'],
  ...['TOKEN', 'INTROSPECTION', 'REVOCATION'].flatMap((e) => [`PER_CLIENT`, `PER_ADDRESS`].map((w) => [`TESSERA_RATE_LIMIT_${e}_${w}`, '100000000'])),
  ['TESSERA_RATE_LIMIT_REGISTRATION_PER_ADDRESS', '100000000'],
]);
const RSS_TARGET_MB = 300;

const enc = encodeURIComponent;
const ms = (x) => (x < 10 ? x.toFixed(1) : String(Math.round(x)));
const mb = (bytes) => bytes / 2 ** 20;

/** Feeds: where each request's body comes from. `remaining` only for pools a measurement uses up. */
const cycle = (items, toBody) => {
  let i = 0;
  return { next: () => { const item = items[i++ % items.length]; return { body: toBody(item), item }; } };
};
const fixed = (body) => ({ next: () => ({ body }) });
/** Each item once, in order; once empty (which the reserve should prevent), the last body again, counted as a failure. */
const consume = (queue, toBody) => {
  let last;
  const feed = {
    dry: 0,
    size: queue.length,
    remaining: () => queue.length,
    next: () => {
      const item = queue.shift();
      if (item === undefined) {
        feed.dry++;
        return { body: last, item: { dry: true } };
      }
      last = toBody(item);
      return { body: last, item };
    },
  };
  return feed;
};

/** `n` tokens from client_credentials requests by `client`, through autocannon (outside any timed phase). */
async function mint(base, client, n) {
  const tokens = [];
  let failed = 0;
  const body = `grant_type=client_credentials&scope=bench&resource=${enc(AUDIENCE)}`;
  await autocannonRun({
    url: base,
    connections: Math.min(32, n),
    amount: n,
    requests: [{
      method: 'POST', path: '/oauth2/token', headers: { ...FORM, authorization: basic(client.client_id, client.client_secret) }, body,
      onResponse: (status, text) => (status === 200 ? tokens.push(JSON.parse(text).access_token) : failed++),
    }],
  });
  if (tokens.length !== n) throw new Error(`minting ${n} tokens: ${tokens.length} issued, ${failed} failed`);
  return tokens;
}

/** A form POST whose JSON answer is returned; throws unless 200. */
async function postForm(url, form, headers = {}) {
  const res = await fetch(url, { method: 'POST', headers: { ...FORM, ...headers }, body: new URLSearchParams(form), signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${new URL(url).pathname}: ${res.status} ${text.slice(0, 200)}`);
  return text ? JSON.parse(text) : {};
}

/** Runs `op` `n` times, `concurrency` at a time. */
async function times(n, concurrency, op) {
  const out = [];
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, async () => {
    while (next < n) {
      next++;
      out.push(await op());
    }
  }));
  return out;
}

/** The auth server's pg pool size, from the built data-source.ts options (pg's default, 10, where it sets none). */
async function authServerPoolSize() {
  if (process.env.BENCH_BASELINE_POOL) return { size: Number(process.env.BENCH_BASELINE_POOL), source: 'BENCH_BASELINE_POOL' };
  try {
    await import('reflect-metadata');
    const { dataSourceOptions } = await import(pathToFileURL(resolve(ROOT, 'dist/apps/auth-server/libs/persistence/src/data-source.js')).href);
    const options = dataSourceOptions('postgres://bench@127.0.0.1/bench');
    const size = options.extra?.max ?? options.poolSize;
    return size ? { size, source: 'libs/persistence/src/data-source.ts' } : { size: 10, source: "pg's default: libs/persistence/src/data-source.ts sets no pool size" };
  } catch (e) {
    return { size: 10, source: `pg's default (could not read data-source.ts's options: ${e.message})` };
  }
}

/** The PostgreSQL server's postmaster pid, when it runs on this machine (its data directory's postmaster.pid); else undefined. */
async function postmasterPid(databaseUrl) {
  try {
    const [{ setting }] = await queryOnce(databaseUrl, `SELECT setting FROM pg_settings WHERE name = 'data_directory'`);
    const pid = Number(readFileSync(resolve(setting, 'postmaster.pid'), 'utf8').split('\n', 1)[0]);
    cpuSeconds(pid); // readable, so ours
    return pid;
  } catch {
    return undefined;
  }
}

/**
 * CPU seconds of a PostgreSQL server so far: its postmaster's own and its exited children's (cutime, cstime), and
 * every live child's (backends, WAL writer, checkpointer...). NaN without a local postmaster.
 */
function postgresCpuSeconds(postmaster) {
  if (postmaster === undefined) return NaN;
  try {
    const stat = readFileSync(`/proc/${postmaster}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    let ticks = Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const child = readFileSync(`/proc/${entry}/stat`, 'utf8');
        const f = child.slice(child.lastIndexOf(')') + 2).split(' ');
        if (Number(f[1]) === postmaster) ticks += Number(f[11]) + Number(f[12]);
      } catch {
        // gone meanwhile
      }
    }
    return ticks / 100;
  } catch {
    return NaN;
  }
}

/** One statement on the auth server's database (its own connection, closed after). */
async function queryOnce(databaseUrl, sql) {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'tessera-bench-runner' });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * One measurement: autocannon on `spec` for `seconds` at `connections`; the process `pid` (the server, or the
 * baselines) measured for CPU and peak RSS. Resolves to its figures.
 */
async function hammer(spec, feed, connections, seconds, pid, postmaster) {
  let instance;
  let stoppedEarly = false;
  let ok = 0;
  let checked = 0;
  const failures = [];
  const kept = [];
  // Requests sent between the stop and its taking effect (at autocannon's next sample, within 100 ms here).
  const reserve = 2 * connections + Math.ceil(0.05 * (feed.size ?? 0));
  const requests = [{
    method: 'POST',
    path: spec.path,
    headers: { ...FORM, ...spec.headers },
    setupRequest(req, context) {
      const { body, item } = feed.next();
      if (feed.remaining && feed.remaining() < reserve && !stoppedEarly) {
        stoppedEarly = true;
        setImmediate(() => instance?.stop());
      }
      context.item = item;
      return { ...req, body };
    },
    onResponse(status, body, context) {
      spec.onEvery?.(status, body, context.item, failures);
      if (status < 200 || status >= 300) return;
      if (ok++ % SAMPLE_EVERY !== 0) return;
      checked++;
      let problem;
      try {
        problem = spec.check(body, context.item);
      } catch (e) {
        problem = `unparsable answer (${e.message}): ${String(body).slice(0, 100)}`;
      }
      if (problem) failures.push(problem);
      else if (spec.keep && kept.length < AFTER_CHECKS) kept.push(spec.keep(body, context.item));
    },
  }];
  const hwm = resetPeakRss(pid);
  let sampled = memoryBytes(pid, 'VmRSS');
  const sampler = setInterval(() => {
    try {
      sampled = Math.max(sampled, memoryBytes(pid, 'VmRSS'));
    } catch {
      // the process is gone; the run fails below
    }
  }, 100);
  const cpuBefore = cpuSeconds(pid);
  const postgresBefore = postgresCpuSeconds(postmaster);
  const selfBefore = process.cpuUsage();
  let result;
  try {
    // sampleInt 100: a stop (or the end) takes effect within 100 ms, not at the next whole second.
    result = await autocannonRun({ url: spec.base, connections, duration: seconds, requests, sampleInt: 100 }, (i) => (instance = i));
  } finally {
    clearInterval(sampler);
  }
  const self = process.cpuUsage(selfBefore);
  const cpu = cpuSeconds(pid) - cpuBefore;
  const postgresCpu = postgresCpuSeconds(postmaster) - postgresBefore;
  const peakRss = hwm ? Math.max(sampled, memoryBytes(pid, 'VmHWM')) : sampled;
  if (feed.dry) failures.push(`the token pool ran dry: ${feed.dry} requests reused a token`);
  if (spec.afterCheck && kept.length) {
    checked += kept.length;
    for (const problem of await spec.afterCheck(kept)) failures.push(problem);
  }
  const total = result.requests.total;
  return {
    rps: total / result.duration,
    seconds: result.duration,
    total,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    checked,
    failures,
    cpuMsPerRequest: total ? (cpu * 1000) / total : NaN,
    postgresCpuMsPerRequest: total ? (postgresCpu * 1000) / total : NaN,
    loadCpuMsPerRequest: total ? (self.user + self.system) / 1000 / total : NaN,
    peakRss,
    stoppedEarly: stoppedEarly && result.duration < seconds * 0.98,
  };
}

export async function authServerBenchmark() {
  const run = new BenchRun();
  try {
    const { issuer, iat, env: serverEnv, child: server } = await run.authServer();
    const databaseUrl = serverEnv.DATABASE_URL;
    const pool = await authServerPoolSize();
    const postmaster = await postmasterPid(databaseUrl);

    // The baselines, on the same database (a schema of their own).
    const baselinePort = await freePort();
    const baselineBase = `http://127.0.0.1:${baselinePort}`;
    const baseline = run.spawn('baseline', 'bench/baseline-server.mjs', [JSON.stringify({ databaseUrl, port: baselinePort, poolSize: pool.size, issuer, audience: AUDIENCE })]);
    await until(async () => (await fetch(`${baselineBase}/ready`)).ok, 'baseline server');

    // The rate limiter's cost (issue 12): a second instance on the same database with the limits on, high enough
    // never to trip; 'client_credentials, opaque, rate limits on' is measured against the first (limits off). It runs
    // only for that scenario's measurements (started before each, with a warm-up of its own, stopped after): idle, it
    // would still take CPU from the measured server, and follow the revocation log, reading it at every revocation
    // batch's NOTIFY as the measured server does, doubling that work of PostgreSQL's in the revocation scenarios.
    const limited = {
      child: undefined,
      base: undefined,
      async start() {
        const port = await freePort();
        this.base = `http://127.0.0.1:${port}`;
        this.child = run.spawn('auth-limited', AUTH_MAIN, [], { ...serverEnv, TESSERA_AUTH_PORT: String(port), ...HIGH_RATE_LIMITS });
        await until(async () => (await fetch(`${this.base}/health/ready`)).ok, 'auth server with rate limits', 60_000);
        return { base: this.base, pid: this.child.pid };
      },
      async stop() {
        if (this.child) await run.stop(this.child);
        this.child = undefined;
      },
    };

    // Clients: client_credentials ones per format, a resource server for AUDIENCE, a public code-flow client.
    const common = { scope: 'bench', resources: [AUDIENCE] };
    const cc = {
      opaque: await register(issuer, iat, { client_name: 'bench opaque', access_token_format: 'opaque', ...common }),
      jwt: await register(issuer, iat, { client_name: 'bench jwt', access_token_format: 'jwt', ...common }),
    };
    // The revocation scenarios' tokens come from clients of their own: a token's revocation check looks at its
    // client's revocation marks, so the log these scenarios grow would otherwise slow the other scenarios down
    // by how many revocations happened to run before them in the round.
    const revoking = {
      opaque: await register(issuer, iat, { client_name: 'bench revocation opaque', access_token_format: 'opaque', ...common }),
      jwt: await register(issuer, iat, { client_name: 'bench revocation jwt', access_token_format: 'jwt', ...common }),
    };
    const rs = await register(issuer, iat, { client_name: 'bench resource server', scope: '', resource_server_for: [AUDIENCE] });
    const rsAuth = basic(rs.client_id, rs.client_secret);
    const publicClient = await register(issuer, iat, {
      client_name: 'bench refresh', token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'],
      redirect_uris: [REDIRECT_URI], access_token_format: 'opaque', ...common,
    });

    const introspect = (token) => postForm(`${issuer}/oauth2/introspect`, { token }, { authorization: rsAuth });
    /** After-checks: each token introspected, expecting `active`. */
    const expectActive = (active) => async (tokens) => {
      const problems = [];
      for (const t of tokens) {
        try {
          const answer = await introspect(t);
          if (answer.active !== active) problems.push(`introspection afterwards: active ${answer.active}, expected ${active}`);
        } catch (e) {
          problems.push(`introspection afterwards failed: ${e.message}`);
        }
      }
      return problems;
    };

    // Tokens to introspect (cycled through), unknown ones, and the SELECT baseline's rows.
    const introspected = { opaque: await mint(issuer, cc.opaque, CYCLED_TOKENS), jwt: await mint(issuer, cc.jwt, CYCLED_TOKENS) };
    const unknown = Array.from({ length: CYCLED_TOKENS }, () => `tsr_at_${randomBytes(32).toString('base64url')}`);
    const selected = [];
    await autocannonRun({
      url: baselineBase, connections: 32, amount: CYCLED_TOKENS,
      requests: [{ method: 'POST', path: '/insert', onResponse: (status, text) => status === 200 && selected.push(JSON.parse(text).access_token) }],
    });
    if (selected.length !== CYCLED_TOKENS) throw new Error(`the INSERT baseline stored ${selected.length} of ${CYCLED_TOKENS} rows`);
    for (const [what, token, active] of [['opaque', introspected.opaque[0], true], ['JWT', introspected.jwt[0], true], ['unknown', unknown[0], false]]) {
      const answer = await introspect(token);
      if (answer.active !== active) throw new Error(`introspection of a fresh ${what} token: active ${answer.active}`);
    }

    // Refresh tokens: a signed-in user, consent remembered, code flows; each refresh's answer puts its rotated token back.
    const password = await createUser(serverEnv);
    const { jar } = await signIn(issuer, password);
    const cookie = jar.header();
    await rememberConsent(issuer, publicClient, jar);
    const refreshQueue = [];
    const topUpRefreshTokens = async (n) => {
      if (refreshQueue.length < n) refreshQueue.push(...(await times(n - refreshQueue.length, 8, async () => (await codeFlow(issuer, publicClient, cookie)).refresh_token)));
    };

    // Revocation pools, minted before each round: enough for SECONDS at twice the fastest rate seen so far (the
    // warm-up's included; rates here vary that much between rounds), plus the reserve; 1000/s, a first guess, for the warm-up.
    const revocationRate = { opaque: 0, jwt: 0 };
    const revocationPools = { opaque: [], jwt: [] };

    const ccBody = `grant_type=client_credentials&scope=bench&resource=${enc(AUDIENCE)}`;
    const issuedCheck = (shape) => (body) => {
      const answer = JSON.parse(body);
      if (!shape.test(answer.access_token ?? '')) return `token answer without a well-formed access_token: ${body.slice(0, 100)}`;
      if (answer.token_type?.toLowerCase() !== 'bearer' || !(answer.expires_in > 0)) return `token answer: token_type ${answer.token_type}, expires_in ${answer.expires_in}`;
      return undefined;
    };
    const activeCheck = (clientId) => (body) => {
      const answer = JSON.parse(body);
      return answer.active === true && answer.client_id === clientId ? undefined : `introspection: ${body.slice(0, 100)}`;
    };
    const inactiveCheck = (body) => (JSON.parse(body).active === false ? undefined : `introspection of an unknown token: ${body.slice(0, 100)}`);

    const server_ = { base: issuer, pid: server.pid };
    const baseline_ = { base: baselineBase, pid: baseline.pid, side: 'baseline' };
    /**
     * name → spec. `feed(connections, seconds)` builds a measurement's request bodies; `prepare` runs before each round;
     * `instance`, a server started for each of the spec's measurements (`start` resolves to its base URL and pid) and
     * stopped after.
     */
    const specs = {
      INSERT: { ...baseline_, path: '/insert', headers: { authorization: basic(cc.opaque.client_id, cc.opaque.client_secret) }, feed: () => fixed(ccBody),
        check: issuedCheck(OPAQUE_SHAPE), keep: (body) => JSON.parse(body).access_token,
        afterCheck: async (tokens) => (await Promise.all(tokens.map((token) => postForm(`${baselineBase}/select`, { token })))).filter((a) => a.active !== true).map(() => 'a stored row not found afterwards') },
      SELECT: { ...baseline_, path: '/select', headers: { authorization: rsAuth }, feed: () => cycle(selected, (t) => `token=${t}&token_type_hint=access_token`),
        check: activeCheck('baseline-client') },
      ES256: { ...baseline_, path: '/sign', headers: { authorization: basic(cc.jwt.client_id, cc.jwt.client_secret) }, feed: () => fixed(ccBody), check: issuedCheck(JWS_SHAPE) },
      'client_credentials, opaque': { ...server_, baseline: 'INSERT', path: '/oauth2/token', headers: { authorization: basic(cc.opaque.client_id, cc.opaque.client_secret) },
        feed: () => fixed(ccBody), check: issuedCheck(OPAQUE_SHAPE), keep: (body) => JSON.parse(body).access_token, afterCheck: expectActive(true) },
      'client_credentials, opaque, rate limits on': { instance: limited, baseline: 'client_credentials, opaque', path: '/oauth2/token',
        headers: { authorization: basic(cc.opaque.client_id, cc.opaque.client_secret) },
        feed: () => fixed(ccBody), check: issuedCheck(OPAQUE_SHAPE), keep: (body) => JSON.parse(body).access_token, afterCheck: expectActive(true) },
      'client_credentials, JWT': { ...server_, baseline: 'ES256', path: '/oauth2/token', headers: { authorization: basic(cc.jwt.client_id, cc.jwt.client_secret) },
        feed: () => fixed(ccBody), check: issuedCheck(JWS_SHAPE), keep: (body) => JSON.parse(body).access_token, afterCheck: expectActive(true) },
      'introspection, active opaque': { ...server_, baseline: 'SELECT', path: '/oauth2/introspect', headers: { authorization: rsAuth },
        feed: () => cycle(introspected.opaque, (t) => `token=${t}&token_type_hint=access_token`), check: activeCheck(cc.opaque.client_id) },
      'introspection, JWT': { ...server_, baseline: 'SELECT', path: '/oauth2/introspect', headers: { authorization: rsAuth },
        feed: () => cycle(introspected.jwt, (t) => `token=${t}&token_type_hint=access_token`), check: activeCheck(cc.jwt.client_id) },
      'introspection, unknown token': { ...server_, baseline: 'SELECT', path: '/oauth2/introspect', headers: { authorization: rsAuth },
        feed: () => cycle(unknown, (t) => `token=${t}&token_type_hint=access_token`), check: inactiveCheck },
      ...Object.fromEntries(['opaque', 'jwt'].map((format) => [`revocation, ${format === 'jwt' ? 'JWT' : format}`, {
        ...server_, baseline: 'INSERT', path: '/oauth2/revoke', headers: { authorization: basic(revoking[format].client_id, revoking[format].client_secret) },
        prepare: async (connections, seconds) => {
          const wanted = Math.min(REVOCATION_POOL_MAX, Math.ceil((revocationRate[format] || 1000) * seconds * 2) + 2 * connections);
          revocationPools[format] = await mint(issuer, revoking[format], wanted);
        },
        feed: () => consume(revocationPools[format], (t) => `token=${t}&token_type_hint=access_token`),
        check: (body) => (body === '' || body === '{}' ? undefined : `revocation answered ${body.slice(0, 100)}`),
        keep: (_body, token) => token, afterCheck: expectActive(false),
        seen: (rps) => (revocationRate[format] = Math.max(revocationRate[format], rps)),
      }])),
      'refresh with rotation': { ...server_, baseline: 'INSERT', path: '/oauth2/token', headers: {},
        prepare: (connections) => topUpRefreshTokens(4 * connections),
        // Not stopped by a reserve like the revocation pools: the answers refill the queue, and 4x the connections covers what is in flight.
        feed: () => {
          const feed = consume(refreshQueue, (t) => `grant_type=refresh_token&refresh_token=${enc(t)}&client_id=${enc(publicClient.client_id)}`);
          return { next: feed.next, get dry() { return feed.dry; } };
        },
        onEvery: (status, body, token, failures) => {
          if (status !== 200) return;
          const rotated = REFRESH_IN_BODY.exec(body)?.[1];
          if (rotated && rotated !== token) refreshQueue.push(rotated);
          else failures.push(`refresh answer without a new refresh_token: ${body.slice(0, 100)}`);
        },
        check: issuedCheck(OPAQUE_SHAPE), keep: (body) => JSON.parse(body).access_token, afterCheck: expectActive(true) },
    };
    // Measurements: every spec at CONNECTIONS; opaque issuance and introspection (and their baselines) at more levels.
    const levels = [CONNECTIONS, ...MORE_LEVELS.filter((c) => c !== CONNECTIONS)];
    const multiLevel = new Set(['client_credentials, opaque', 'introspection, active opaque', 'INSERT', 'SELECT']);
    const measurements = [];
    for (const c of levels) for (const name of Object.keys(specs)) if (c === CONNECTIONS || multiLevel.has(name)) measurements.push({ name, connections: c, rounds: [] });
    // BENCH_ONLY=<text>: only the measurements whose name contains it, their baselines, and the baselines' own ('rate limits
    // on' is measured against opaque issuance, itself against INSERT).
    const only = process.env.BENCH_ONLY;
    const wanted = new Set(measurements.filter((m) => m.name.includes(only ?? '')));
    for (const m of wanted) {
      const base = measurements.find((s) => s.name === specs[m.name].baseline && s.connections === m.connections);
      if (base) wanted.add(base); // visited later by this loop (a Set's iteration includes what is added during it)
    }
    const chosen = measurements.filter((m) => wanted.has(m));
    const key = (m) => `${m.name} @${m.connections}`;

    const prepareRound = async (seconds) => {
      for (const m of chosen) await specs[m.name].prepare?.(m.connections, seconds);
    };
    /** One measurement; for a spec with an instance of its own: the instance started, warmed up, measured, stopped. */
    const measure = async (m, seconds) => {
      let spec = specs[m.name];
      if (spec.instance) spec = { ...spec, ...(await spec.instance.start()) };
      try {
        if (spec.instance) await hammer(spec, spec.feed(), m.connections, FRESH_WARMUP_SECONDS, spec.pid, postmaster);
        const result = await hammer(spec, spec.feed(), m.connections, seconds, spec.pid, postmaster);
        spec.seen?.(result.rps);
        return result;
      } finally {
        await spec.instance?.stop();
      }
    };

    console.log(`Auth-server benchmark: ${ROUNDS} rounds x ${chosen.length} measurements, ${SECONDS}s each after a ${WARMUP_SECONDS}s warm-up each, 127.0.0.1; baseline pg pool ${pool.size} (${pool.source})`);
    // Warm-up (JIT, pools, caches), which also gives the revocation pools their first rate. Not for a spec with an
    // instance of its own: each of its measurements starts a fresh one and warms it up first.
    await prepareRound(WARMUP_SECONDS);
    let backends;
    for (const m of chosen) {
      if (specs[m.name].instance) continue;
      if (m.name === 'client_credentials, opaque' && m.connections === Math.max(...levels)) {
        // Half-way through, how many connections the auth server holds on its database (its pool and its change-feed listener).
        const counting = new Promise((res) => setTimeout(() => queryOnce(databaseUrl, `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name NOT LIKE 'tessera-bench-%'`).then((rows) => res(rows[0].n), () => res(undefined)), (WARMUP_SECONDS * 1000) / 2));
        await measure(m, WARMUP_SECONDS);
        backends = await counting;
      } else {
        await measure(m, WARMUP_SECONDS);
      }
    }

    const step = Math.max(1, Math.ceil(chosen.length / ROUNDS));
    for (let round = 1; round <= ROUNDS; round++) {
      await prepareRound(SECONDS);
      const shift = ((round - 1) * step) % chosen.length;
      for (const m of [...chosen.slice(shift), ...chosen.slice(0, shift)]) m.rounds[round - 1] = await measure(m, SECONDS);
      console.log(`  round ${round}: ${chosen.map((m) => `${key(m)} ${Math.round(m.rounds[round - 1].rps)}/s`).join(', ')}`);
    }

    const [{ n: revocations }] = await queryOnce(databaseUrl, 'SELECT count(*)::int AS n FROM revocations');
    const report = results({ chosen, specs, levels, pool, backends, revocations });
    writeFileSync(RESULTS, report);
    console.log(`\n${report}\n(written to bench/RESULTS.md)`);
    return true;
  } catch (e) {
    if (interrupted()) return false;
    console.error(`auth-server benchmark failed: ${e.stack ?? e.message}`);
    const output = run.output();
    if (output) console.error(output);
    return false;
  } finally {
    await run.cleanup();
  }
}

/** The markdown report: settings, the targets, then every measurement. */
function results({ chosen, specs, levels, pool, backends, revocations }) {
  const cpuOf = (r) => r.cpuMsPerRequest + (Number.isNaN(r.postgresCpuMsPerRequest) ? 0 : r.postgresCpuMsPerRequest);
  const find = (name, connections) => chosen.find((m) => m.name === name && m.connections === connections);
  const summary = new Map();
  for (const m of chosen) {
    const rs = m.rounds;
    const base = specs[m.name].baseline && find(specs[m.name].baseline, m.connections);
    const failures = rs.flatMap((r) => r.failures);
    summary.set(m, {
      rps: median(rs.map((r) => r.rps)),
      ratios: base ? rs.map((r, i) => r.rps / base.rounds[i].rps) : undefined,
      ratio: base ? median(rs.map((r, i) => r.rps / base.rounds[i].rps)) : undefined,
      p50: median(rs.map((r) => r.p50)),
      p99: median(rs.map((r) => r.p99)),
      p99max: Math.max(...rs.map((r) => r.p99)),
      non2xx: rs.reduce((a, r) => a + r.non2xx, 0),
      errors: rs.reduce((a, r) => a + r.errors, 0),
      checked: rs.reduce((a, r) => a + r.checked, 0),
      failures,
      cpu: median(rs.map((r) => r.cpuMsPerRequest)),
      postgresCpu: median(rs.map((r) => r.postgresCpuMsPerRequest)),
      loadCpu: median(rs.map((r) => r.loadCpuMsPerRequest)),
      // The baseline's CPU per request over this one's, the process's and PostgreSQL's together: what the throughput
      // ratio would be were both bound by these CPUs alone. Steadier than req/s on a shared machine.
      cpuRatio: base ? median(rs.map((r, i) => cpuOf(base.rounds[i]) / cpuOf(r))) : undefined,
      rss: Math.max(...rs.map((r) => r.peakRss)),
      short: rs.filter((r) => r.stoppedEarly).map((r) => r.seconds),
    });
  }
  const flagged = (s) => s.non2xx > 0 || s.errors > 0 || s.failures.length > 0;
  const met = (ok) => (ok ? 'met' : '**not met**');
  const serverAtTarget = chosen.filter((m) => !specs[m.name].side && m.connections === CONNECTIONS);
  const peakRss = Math.max(...chosen.filter((m) => !specs[m.name].side).map((m) => summary.get(m).rss));

  const targets = [];
  for (const m of serverAtTarget) {
    const s = summary.get(m);
    const target = RATIO_TARGETS[m.name];
    if (target !== undefined) targets.push(`| ${m.name} | ≥ ${target}x ${specs[m.name].baseline} | ${s.ratio.toFixed(2)}x | ${met(s.ratio >= target)} |`);
  }
  for (const m of serverAtTarget) {
    const s = summary.get(m);
    targets.push(`| ${m.name} | p99 ≤ ${P99_TARGET_MS} ms | ${ms(s.p99)} ms | ${met(s.p99 <= P99_TARGET_MS)} |`);
  }
  targets.push(`| every scenario | peak RSS of the auth server under load < ${RSS_TARGET_MB} MB | ${Math.round(mb(peakRss))} MB | ${met(mb(peakRss) < RSS_TARGET_MB)} |`);

  const rows = [];
  for (const c of levels) {
    for (const m of chosen.filter((x) => x.connections === c)) {
      const spec = specs[m.name];
      const s = summary.get(m);
      const name = spec.side ? `${m.name} baseline` : m.name;
      const goals = [];
      if (!spec.side && c === CONNECTIONS) {
        if (RATIO_TARGETS[m.name] !== undefined) goals.push(`≥ ${RATIO_TARGETS[m.name]}x: ${met(s.ratio >= RATIO_TARGETS[m.name])}`);
        goals.push(`p99 ≤ ${P99_TARGET_MS} ms: ${met(s.p99 <= P99_TARGET_MS)}`);
        goals.push(`< ${RSS_TARGET_MB} MB: ${met(mb(s.rss) < RSS_TARGET_MB)}`);
      }
      const ratio = s.ratio === undefined ? '' : `${s.ratio.toFixed(2)}x ${spec.baseline} (${s.ratios.map((r) => r.toFixed(2)).join(', ')})`;
      const problems = `${s.non2xx} / ${s.errors} / ${s.failures.length} of ${s.checked}`;
      rows.push(`| ${flagged(s) ? '⚠ FLAGGED ' : ''}${name} | ${c} | ${Math.round(s.rps)} | ${ratio} | ${ms(s.p50)} | ${ms(s.p99)} (max ${ms(s.p99max)}) | ${flagged(s) ? `**${problems}**` : problems} | ${s.cpu.toFixed(2)} | ${Number.isNaN(s.postgresCpu) ? 'n/a' : s.postgresCpu.toFixed(2)} | ${s.loadCpu.toFixed(2)} | ${s.cpuRatio === undefined ? '' : `${s.cpuRatio.toFixed(2)}x`} | ${Math.round(mb(s.rss))} | ${goals.join('; ')} |`);
    }
  }
  const notes = [];
  for (const m of chosen) {
    const s = summary.get(m);
    if (s.short.length) notes.push(`- ${m.name} at ${m.connections}: ${s.short.length} round(s) ran faster than twice the best rate seen before and used up its pre-minted tokens, so stopped after ${s.short.map((x) => `${x}s`).join(', ')}: its rate is over that time.`);
    if (s.failures.length) notes.push(`- ${m.name} at ${m.connections}: ${[...new Set(s.failures)].slice(0, 3).join('; ')}`);
  }
  const commit = (() => {
    try {
      return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    } catch {
      return 'unknown';
    }
  })();
  return `# Auth-server benchmark

Written by \`node bench/run.mjs auth-server\` (part of \`npm run bench\`); overwritten at each run.

- Date: ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}, at commit ${commit}.
- Machine: ${MACHINE} (${os.cpus()[0]?.model?.trim() ?? 'unknown CPU'}, ${os.cpus().length} CPUs seen, Node ${process.version}, embedded PostgreSQL unless DATABASE_URL was set).
- Settings: ${ROUNDS} rounds of ${SECONDS} s per measurement, after a ${WARMUP_SECONDS} s warm-up each; each round starts at a later place in the list, so a scenario and its baseline share the machine's noisy moments. Medians over the rounds; a ratio is the median of the per-round ratios (listed). Targets are judged at ${CONNECTIONS} connections. The load generator (autocannon) runs in the benchmark's own process, which never reads the apps' output while they run: each app's stdout and stderr go to a file of the run's (removed at its end), written by the kernel, read only for a report (the tail of an app that exits on its own, or after a failure). So the server, which logs every request, pays nothing for its logs in the load generator's process, and its writes never wait for a reader; the baselines log nothing.
- Baselines: bare Fastify routes in a process of their own (bench/baseline-server.mjs), with fastify, pg and jose: **INSERT** is one INSERT of a token-sized row (a copy of access_tokens: same columns, keys, index and foreign key) through a prepared statement; **SELECT** is one SELECT by primary key (the SHA-256 of the posted token) among ${CYCLED_TOKENS} rows, cycled; **ES256** is one ES256 signature of a JWT with Tessera's claims and header. Their pg pool has ${pool.size} connections, the auth server's pool size (${pool.source}), so the comparison is fair.${backends !== undefined ? ` Under load at ${Math.max(...levels)} connections the auth server held ${backends} connections on its database (its pool, and its change-feed listener).` : ''}
- Scenarios: client_credentials (scope \`bench\`, one RFC 8707 resource); introspection by a resource server of that audience, cycling through ${CYCLED_TOKENS} active tokens (or ${CYCLED_TOKENS} unknown ones); revocation by the token's client (clients of their own, so that their marks do not weigh on the other scenarios' checks by client; the log still grows through the run, to ${revocations} entries at the end, and a check that scans all of it slows down as it does), each request a different token minted before the round (enough for ${SECONDS} s at twice the fastest rate seen so far; should a round still use them up, it stops there and says so below); refresh by a public client, each refresh token used once (a pool from code flows, which every answer refills with its rotated token); \`client_credentials, opaque, rate limits on\`: opaque issuance from a second auth server on the same database with every rate limit on at its highest (never reached), against the first (limits off). That second server runs only for its scenario's measurements: started before each, warmed up for ${FRESH_WARMUP_SECONDS} s (a fresh process's code needs longer than the others' ${WARMUP_SECONDS} s), measured, stopped; during the other scenarios it takes no CPU and does not follow the revocation log (which every instance reads at each revocation batch's notification).
- Checks: every ${SAMPLE_EVERY}th 2xx answer is parsed and checked (a token answer with a well-formed token; introspection \`active: true\` with the right client_id, or \`active: false\` for unknown tokens; revocation's empty 200), and up to ${AFTER_CHECKS} tokens per measurement are introspected afterwards (issued: active; revoked: inactive). A measurement with any non-2xx, error or failed check is flagged.
- CPU per request: the server's (or the baselines' process's) user + system CPU time over the measurement (from /proc), divided by the requests answered; PostgreSQL's CPU per request (its postmaster and every backend and helper process, all the run's databases: nothing else uses them during a measurement) is a column of its own (n/a when DATABASE_URL points elsewhere), and so is the load generator's: this benchmark's own process (autocannon, the checks, everything else it does meanwhile) on the same cores. The CPU ratio is the baseline's CPU per request (its process's and PostgreSQL's) over the scenario's, median of the rounds: the throughput ratio were both bound by those CPUs alone (the load generator's share left out), and far steadier than req/s on this shared machine. Peak RSS: the process's VmHWM, reset before each measurement (MiB).

## Targets (issue 11), at ${CONNECTIONS} connections

| scenario | target | measured | |
|---|---|---|---|
${targets.join('\n')}

## All measurements

| scenario | connections | req/s | ratio to baseline (per round) | p50 ms | p99 ms | non-2xx / errors / failed checks of checked | CPU ms per request | PostgreSQL CPU ms per request | load generator CPU ms per request | CPU ratio to baseline | peak RSS MiB | targets |
|---|---|---|---|---|---|---|---|---|---|---|---|---|
${rows.join('\n')}
${notes.length ? `\nNotes:\n${notes.join('\n')}\n` : ''}`;
}
