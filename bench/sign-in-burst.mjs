// The sign-in burst benchmark, on 127.0.0.1 only: what bursts of concurrent sign-ins (each one a
// 128 MiB scrypt) do to the token endpoint, with the bound on password hashes running at once
// (TESSERA_SIGN_IN_MAX_CONCURRENT_HASHES and _MAX_QUEUED_HASHES at their defaults) and without
// it (a bound of 256: every sign-in hashes at once, as before the bound).
// For each server, BENCH_ROUNDS rounds of two phases of BENCH_SECONDS: client_credentials token
// requests (TOKEN_WORKERS sequential loops, opaque and JWT clients in turn) alone, then the same
// while bursts of BENCH_BURST sign-ins run back to back (each from a fresh browser: GET /login, then
// all the POSTs at once, with the right password; the throttle is set out of the way). Token latencies
// are reported as ratios to the same server's latencies without the bursts, in the same run; each round
// starts once the server answers a JWT token request within 100 ms again (sign-ins whose clients gave
// up may still be hashing), and that wait is reported too.
//   node bench/run.mjs sign-in-burst        (after `npm run build`)
// Knobs: BENCH_ROUNDS (3), BENCH_SECONDS (5), BENCH_BURST (40), BENCH_TOKEN_WORKERS (2).
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { CLI_MAIN, CookieJar, hidden } from './code-flow.mjs';
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
  ['unbounded (a bound of 256, as before the bound)', { ...NO_THROTTLE, TESSERA_SIGN_IN_MAX_CONCURRENT_HASHES: '256', TESSERA_SIGN_IN_MAX_QUEUED_HASHES: '0' }],
];

const ms = (x) => `${x < 10 ? x.toFixed(1) : Math.round(x)} ms`;
const sleep = (t) => new Promise((r) => setTimeout(r, t));

/** Peak resident memory of a process so far (VmHWM, Linux), MiB. */
function peakRssMiB(pid) {
  const kb = Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
  return Math.round(kb / 1024);
}

/**
 * TOKEN_WORKERS loops of client_credentials requests for `seconds`; resolves to each format's latencies (ms) and
 * failures (an error or a status other than 200, whose time still counts as a latency: it is what the client waited).
 */
async function tokenLatencies(issuer, clients, seconds) {
  const latencies = Object.fromEntries(FORMATS.map((f) => [f, []]));
  const failures = Object.fromEntries(FORMATS.map((f) => [f, 0]));
  const deadline = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: TOKEN_WORKERS }, async (_, worker) => {
      for (let i = worker; performance.now() < deadline && !interrupted(); i++) {
        const format = FORMATS[i % FORMATS.length];
        const client = clients[format];
        const started = performance.now();
        const body = new URLSearchParams({ grant_type: 'client_credentials', scope: 'bench', resource: AUDIENCE });
        try {
          const res = await fetch(`${issuer}/oauth2/token`, { method: 'POST', headers: { authorization: basic(client.client_id, client.client_secret) }, body, signal: AbortSignal.timeout(60_000) });
          await res.text();
          if (res.status !== 200) failures[format]++;
        } catch {
          failures[format]++;
        }
        latencies[format].push(performance.now() - started);
      }
    }),
  );
  return { latencies, failures };
}

/**
 * Waits until a JWT token request (ES256 signing shares libuv's pool with scrypt) answers within 100 ms again: the
 * sign-ins of a burst whose clients gave up may still be hashing. Resolves to the time that took (ms).
 */
async function recovered(issuer, client) {
  const started = performance.now();
  for (;;) {
    const sent = performance.now();
    const body = new URLSearchParams({ grant_type: 'client_credentials', scope: 'bench', resource: AUDIENCE });
    const ok = await fetch(`${issuer}/oauth2/token`, { method: 'POST', headers: { authorization: basic(client.client_id, client.client_secret) }, body, signal: AbortSignal.timeout(60_000) })
      .then(async (res) => (await res.text(), res.status === 200))
      .catch(() => false);
    if (ok && performance.now() - sent < 100) return performance.now() - started;
    if (performance.now() - started > 300_000 || interrupted()) throw new Error('the auth server did not recover within 300 s');
    await sleep(200);
  }
}

/** Bursts of BURST sign-ins, back to back, until `stop()` says so; resolves to the statuses seen and each burst's duration. */
async function bursts(issuer, password, stop) {
  const statuses = new Map();
  const durations = [];
  let missingRetryAfter = 0;
  while (!stop() && !interrupted()) {
    const browsers = (
      await Promise.all(
        Array.from({ length: BURST }, async () => {
          const jar = new CookieJar();
          try {
            const res = await fetch(`${issuer}/login`, { signal: AbortSignal.timeout(60_000) });
            jar.keep(res);
            return { jar, csrf: hidden(await res.text(), 'csrf') };
          } catch {
            statuses.set('GET /login failed', (statuses.get('GET /login failed') ?? 0) + 1);
            return null;
          }
        }),
      )
    ).filter(Boolean);
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
    const tokenFailures = { alone: 0, during: 0 };
    const recoveries = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const { latencies: quiet, failures: quietFailures } = await tokenLatencies(issuer, clients, SECONDS);
      let stopped = false;
      const burst = bursts(issuer, password, () => stopped).catch((error) => ({ error }));
      const { latencies: loud, failures: loudFailures } = await tokenLatencies(issuer, clients, SECONDS).finally(() => (stopped = true));
      const b = await burst;
      if (b.error) throw b.error;
      for (const f of FORMATS) {
        alone[f].push(quiet[f]);
        during[f].push(loud[f]);
        tokenFailures.alone += quietFailures[f];
        tokenFailures.during += loudFailures[f];
      }
      for (const [status, n] of b.statuses) statuses.set(status, (statuses.get(status) ?? 0) + n);
      durations.push(...b.durations);
      missingRetryAfter += b.missingRetryAfter;
      console.log(
        `  ${name}, round ${round}: ${FORMATS.map((f) => `${f} token p50 ${ms(percentile(quiet[f], 50))} alone, ${ms(percentile(loud[f], 50))} during bursts`).join('; ')}; ${b.durations.length} bursts`,
      );
      recoveries.push(await recovered(issuer, clients.jwt));
    }
    const rss = peakRssMiB(child.pid);
    return { name, alone, during, statuses, durations, missingRetryAfter, rss, tokenFailures, recoveries };
  } catch (e) {
    const output = run.output();
    if (output && !interrupted()) console.error(`${name}: the auth server said:\n${output}`);
    throw e;
  } finally {
    await run.cleanup();
  }
}

export async function signInBurstBenchmark() {
  try {
    console.log(`Sign-in burst benchmark: ${SERVERS.length} servers x ${ROUNDS} rounds x 2 phases of ${SECONDS}s, bursts of ${BURST} sign-ins, ${TOKEN_WORKERS} token loops, 127.0.0.1`);
    const results = [];
    // BENCH_ONLY=<text>: only the servers whose name contains it.
    for (const [name, env] of SERVERS) if (!process.env.BENCH_ONLY || name.includes(process.env.BENCH_ONLY)) results.push(await measure(name, env));

    console.log(`\n| server | token request | p50 alone | p50 during bursts | ratio | p99 alone | p99 during bursts | ratio |\n|---|---|---|---|---|---|---|---|`);
    for (const r of results) {
      for (const f of FORMATS) {
        // Per round, then the median of the rounds: each round's phases ran back to back.
        const stat = (phase, p) => median(phase[f].map((xs) => percentile(xs, p)));
        const [a50, d50, a99, d99] = [stat(r.alone, 50), stat(r.during, 50), stat(r.alone, 99), stat(r.during, 99)];
        console.log(`| ${r.name} | client_credentials, ${f} | ${ms(a50)} | ${ms(d50)} | ${(d50 / a50).toFixed(1)}x | ${ms(a99)} | ${ms(d99)} | ${(d99 / a99).toFixed(1)}x |`);
      }
    }
    console.log(`\n| server | bursts | sign-in answers (all bursts) | without Retry-After | burst duration p50 | p99 | token requests failed (alone, during bursts) | time until a JWT token takes < 100 ms again, max | auth server peak RSS |\n|---|---|---|---|---|---|---|---|---|`);
    for (const r of results) {
      const answers = [...r.statuses].sort(([a], [b]) => String(a).localeCompare(String(b))).map(([s, n]) => `${s}: ${n}`).join(', ');
      console.log(
        `| ${r.name} | ${r.durations.length} | ${answers} | ${r.missingRetryAfter} | ${ms(percentile(r.durations, 50))} | ${ms(percentile(r.durations, 99))} | ${r.tokenFailures.alone}, ${r.tokenFailures.during} | ${ms(Math.max(...r.recoveries))} | ${r.rss} MiB |`,
      );
    }
    return true;
  } catch (e) {
    if (interrupted()) return false;
    console.error(`sign-in burst benchmark failed: ${e.message}`);
    return false;
  }
}
