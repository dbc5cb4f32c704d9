// The sign-in burst benchmark, on 127.0.0.1 only: what bursts of concurrent sign-ins (each one a
// 128 MiB scrypt) do to the token endpoint, with the bound on password hashes running at once
// (TESSERA_SIGN_IN_MAX_CONCURRENT_HASHES and _MAX_QUEUED_HASHES at their defaults) and without it
// (a bound as large as the burst: every sign-in of a burst hashes at once, as before the bound).
// For each server, BENCH_ROUNDS rounds of two phases of BENCH_SECONDS: client_credentials token
// requests (TOKEN_WORKERS sequential loops, opaque and JWT clients in turn) alone, then the same
// while bursts of BENCH_BURST sign-ins run back to back (each from a fresh browser: GET /login, then
// all the POSTs at once, with the right password; the throttle is set out of the way). Token latencies
// are reported as ratios to the same server's latencies without the bursts, in the same run.
//   node bench/run.mjs sign-in-burst        (after `npm run build`)
// Knobs: BENCH_ROUNDS (3), BENCH_SECONDS (5), BENCH_BURST (40), BENCH_TOKEN_WORKERS (2).
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { call, CLI_MAIN, CookieJar, hidden, post } from './code-flow.mjs';
import { basic, BenchRun, interrupted, median, percentile, register, ROOT } from './lib.mjs';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const BURST = Number(process.env.BENCH_BURST ?? 40);
const TOKEN_WORKERS = Number(process.env.BENCH_TOKEN_WORKERS ?? 2);
const USERNAME = 'bench';
const AUDIENCE = 'http://api.bench.test';
const FORMATS = ['opaque', 'jwt'];

/** Every attempt of a burst is for one account: the throttle, which counts attempts in flight, would otherwise refuse most of them. */
const NO_THROTTLE = { TESSERA_SIGN_IN_MAX_FAILURES_PER_ACCOUNT: '10000', TESSERA_SIGN_IN_MAX_FAILURES_PER_ADDRESS: '100000' };
const SERVERS = [
  ['bounded (defaults)', NO_THROTTLE],
  [`unbounded (a bound of ${BURST}, no queue)`, { ...NO_THROTTLE, TESSERA_SIGN_IN_MAX_CONCURRENT_HASHES: String(BURST), TESSERA_SIGN_IN_MAX_QUEUED_HASHES: '0' }],
];

const ms = (x) => `${x < 10 ? x.toFixed(1) : Math.round(x)} ms`;
const sleep = (t) => new Promise((r) => setTimeout(r, t));

/** Peak resident memory of a process so far (VmHWM, Linux), MiB. */
function peakRssMiB(pid) {
  const kb = Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
  return Math.round(kb / 1024);
}

/** TOKEN_WORKERS loops of client_credentials requests for `seconds`; resolves to each format's latencies (ms). */
async function tokenLatencies(issuer, clients, seconds) {
  const latencies = Object.fromEntries(FORMATS.map((f) => [f, []]));
  const deadline = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: TOKEN_WORKERS }, async (_, worker) => {
      for (let i = worker; performance.now() < deadline; i++) {
        const format = FORMATS[i % FORMATS.length];
        const client = clients[format];
        const started = performance.now();
        const body = new URLSearchParams({ grant_type: 'client_credentials', scope: 'bench', resource: AUDIENCE });
        await call(`${issuer}/oauth2/token`, { method: 'POST', headers: { authorization: basic(client.client_id, client.client_secret) }, body, expect: 200 });
        latencies[format].push(performance.now() - started);
      }
    }),
  );
  return latencies;
}

/** Bursts of BURST sign-ins, back to back, until `stop()` says so; resolves to the statuses seen and each burst's duration. */
async function bursts(issuer, password, stop) {
  const statuses = new Map();
  const durations = [];
  let missingRetryAfter = 0;
  while (!stop() && !interrupted()) {
    const browsers = await Promise.all(
      Array.from({ length: BURST }, async () => {
        const jar = new CookieJar();
        const page = await call(`${issuer}/login`, { expect: 200 });
        jar.keep(page.res);
        return { jar, csrf: hidden(page.body, 'csrf') };
      }),
    );
    const started = performance.now();
    await Promise.all(
      browsers.map(async ({ jar, csrf }) => {
        const res = await fetch(`${issuer}/login`, {
          method: 'POST',
          redirect: 'manual',
          headers: { cookie: jar.header() },
          body: new URLSearchParams({ csrf, username: USERNAME, password }),
          signal: AbortSignal.timeout(60_000),
        }).catch((e) => ({ status: `error (${e.cause?.code ?? e.name})`, headers: new Headers(), text: async () => '' }));
        await res.text();
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        if ((res.status === 503 || res.status === 429) && !res.headers.get('retry-after')) missingRetryAfter++;
      }),
    );
    durations.push(performance.now() - started);
  }
  return { statuses, durations, missingRetryAfter };
}

async function measure(name, env) {
  const run = new BenchRun();
  try {
    const { issuer, iat, env: serverEnv, child } = await run.authServer(env);
    const password = randomBytes(18).toString('base64url');
    await promisify(execFile)(process.execPath, [CLI_MAIN, 'users', 'create', USERNAME, '--password', password], {
      cwd: ROOT,
      env: { ...process.env, ...serverEnv },
      timeout: 60_000,
    });
    const clients = {};
    for (const format of FORMATS) {
      clients[format] = await register(issuer, iat, { client_name: `bench ${format}`, scope: 'bench', access_token_format: format, resources: [AUDIENCE] });
    }
    await tokenLatencies(issuer, clients, 1); // warm-up
    const alone = Object.fromEntries(FORMATS.map((f) => [f, []]));
    const during = Object.fromEntries(FORMATS.map((f) => [f, []]));
    const statuses = new Map();
    const durations = [];
    let missingRetryAfter = 0;
    for (let round = 1; round <= ROUNDS; round++) {
      const quiet = await tokenLatencies(issuer, clients, SECONDS);
      let stopped = false;
      const burst = bursts(issuer, password, () => stopped);
      const loud = await tokenLatencies(issuer, clients, SECONDS);
      stopped = true;
      const b = await burst;
      for (const f of FORMATS) {
        alone[f].push(quiet[f]);
        during[f].push(loud[f]);
      }
      for (const [status, n] of b.statuses) statuses.set(status, (statuses.get(status) ?? 0) + n);
      durations.push(...b.durations);
      missingRetryAfter += b.missingRetryAfter;
      console.log(
        `  ${name}, round ${round}: ${FORMATS.map((f) => `${f} token p50 ${ms(percentile(quiet[f], 50))} alone, ${ms(percentile(loud[f], 50))} during bursts`).join('; ')}; ${b.durations.length} bursts`,
      );
      await sleep(500);
    }
    const rss = peakRssMiB(child.pid);
    return { name, alone, during, statuses, durations, missingRetryAfter, rss };
  } finally {
    await run.cleanup();
  }
}

export async function signInBurstBenchmark() {
  try {
    console.log(`Sign-in burst benchmark: ${SERVERS.length} servers x ${ROUNDS} rounds x 2 phases of ${SECONDS}s, bursts of ${BURST} sign-ins, ${TOKEN_WORKERS} token loops, 127.0.0.1`);
    const results = [];
    for (const [name, env] of SERVERS) results.push(await measure(name, env));

    console.log(`\n| server | token request | p50 alone | p50 during bursts | ratio | p99 alone | p99 during bursts | ratio |\n|---|---|---|---|---|---|---|---|`);
    for (const r of results) {
      for (const f of FORMATS) {
        // Per round, then the median of the rounds: each round's phases ran back to back.
        const stat = (phase, p) => median(phase[f].map((xs) => percentile(xs, p)));
        const [a50, d50, a99, d99] = [stat(r.alone, 50), stat(r.during, 50), stat(r.alone, 99), stat(r.during, 99)];
        console.log(`| ${r.name} | client_credentials, ${f} | ${ms(a50)} | ${ms(d50)} | ${(d50 / a50).toFixed(1)}x | ${ms(a99)} | ${ms(d99)} | ${(d99 / a99).toFixed(1)}x |`);
      }
    }
    console.log(`\n| server | bursts | sign-in answers (all bursts) | without Retry-After | burst duration p50 | p99 | auth server peak RSS |\n|---|---|---|---|---|---|---|`);
    for (const r of results) {
      const answers = [...r.statuses].sort(([a], [b]) => String(a).localeCompare(String(b))).map(([s, n]) => `${s}: ${n}`).join(', ');
      console.log(`| ${r.name} | ${r.durations.length} | ${answers} | ${r.missingRetryAfter} | ${ms(percentile(r.durations, 50))} | ${ms(percentile(r.durations, 99))} | ${r.rss} MiB |`);
    }
    return true;
  } catch (e) {
    if (interrupted()) return false;
    console.error(`sign-in burst benchmark failed: ${e.message}`);
    return false;
  }
}
