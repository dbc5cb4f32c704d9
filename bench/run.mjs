// npm run bench: the six benchmarks, one after the other, on 127.0.0.1 only.
//   1. TokenGuard: requests per second through TokenGuard (a JWT, a cached opaque token) against the
//      same route with no guard, in one run, and the app's CPU time per request, which a shared, noisy
//      machine disturbs far less. Figures are ratios to the unguarded route measured in the same run.
//   2. Revocation (bench/revocation.mjs): revocation-to-rejection delay across two auth-server instances,
//      and the throughput cost of following the revocation feed.
//   3. Code flow (bench/code-flow.mjs): authorization code flows and refreshes per second against
//      client_credentials requests, and the cost of a sign-in against the sign-in page, in one run.
//   4. Faults (bench/faults.mjs): revocation-to-refusal delays after each fault of the fault test (an auth
//      instance killed, a LISTEN backend paused, PostgreSQL restarted, a resource server restarted).
//   5. Sign-in burst (bench/sign-in-burst.mjs): client_credentials latency while bursts of concurrent
//      sign-ins run, against the same without them, with the bound on password hashes and without it.
//   6. Auth server (bench/auth-server.mjs): issuance, introspection, revocation and refresh against bare Fastify
//      baselines (one INSERT, one SELECT, one ES256 signature) in the same run; the figures go to bench/RESULTS.md.
// `node bench/run.mjs tokenguard` (or revocation, code-flow, faults, sign-in-burst, auth-server) runs one of them.
import { BENCH_MAIN, BenchRun, cpuSeconds, freePort, interrupted, loadCounted, median, register, token, until } from './lib.mjs';
import { authServerBenchmark } from './auth-server.mjs';
import { codeFlowBenchmark } from './code-flow.mjs';
import { faultsBenchmark } from './faults.mjs';
import { revocationBenchmark } from './revocation.mjs';
import { signInBurstBenchmark } from './sign-in-burst.mjs';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 4); // a multiple of the scenarios: each runs once in every position
const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);

export async function tokenGuardBenchmark() {
  const run = new BenchRun();
  try {
    const { issuer, iat } = await run.authServer();

    const benchPort = await freePort();
    const audience = `http://127.0.0.1:${benchPort}`;
    const rs = await register(issuer, iat, { client_name: 'bench resource server', scope: '', resource_server_for: [audience] });
    const tokens = {};
    for (const format of ['jwt', 'opaque']) {
      const client = await register(issuer, iat, { client_name: `bench ${format}`, scope: 'bench', access_token_format: format, resources: [audience] });
      tokens[format] = await token(issuer, client, audience);
    }
    const app = run.spawn('bench', BENCH_MAIN, [JSON.stringify({ issuer, audience, clientId: rs.client_id, clientSecret: rs.client_secret, port: benchPort })]);
    await until(async () => (await fetch(`${audience}/plain`)).ok, 'bench app');

    const scenarios = {
      // The unguarded routes get the same (largest) Authorization header, so the ratios measure the guard, not the header's bytes.
      'no guard': [`${audience}/plain`, { authorization: `Bearer ${tokens.jwt}` }],
      'a guard that accepts all': [`${audience}/accept-all`, { authorization: `Bearer ${tokens.jwt}` }],
      'TokenGuard, JWT': [`${audience}/guarded`, { authorization: `Bearer ${tokens.jwt}` }],
      'TokenGuard, cached opaque': [`${audience}/guarded`, { authorization: `Bearer ${tokens.opaque}` }],
    };
    // BENCH_ONLY=<text>: only the scenarios whose name contains it (with BENCH_PROFILE, a profile of one route).
    if (process.env.BENCH_ONLY) for (const name of Object.keys(scenarios)) if (!name.includes(process.env.BENCH_ONLY)) delete scenarios[name];
    for (const [url, headers] of Object.values(scenarios)) {
      const r = await fetch(url, { headers });
      if (!r.ok) throw new Error(`${url}: ${r.status} ${await r.text()}`);
    }
    const results = Object.fromEntries(Object.keys(scenarios).map((k) => [k, []]));
    /** The app's CPU microseconds per request answered, per round. */
    const cpu = Object.fromEntries(Object.keys(scenarios).map((k) => [k, []]));
    console.log(`TokenGuard benchmark: ${ROUNDS} rounds x ${Object.keys(scenarios).length} scenarios, ${SECONDS}s each, ${CONNECTIONS} connections, 127.0.0.1`);
    const entries = Object.entries(scenarios);
    for (let round = 1; round <= ROUNDS; round++) {
      // Each round starts one scenario later: where a scenario runs in a round changes what it measures here.
      const shift = (round - 1) % entries.length;
      for (const [name, [url, headers]] of [...entries.slice(shift), ...entries.slice(0, shift)]) {
        const before = cpuSeconds(app.pid);
        const { rps, requests } = await loadCounted(url, headers, { connections: CONNECTIONS, seconds: SECONDS });
        results[name].push(rps);
        cpu[name].push(((cpuSeconds(app.pid) - before) * 1e6) / requests);
      }
      console.log(`  round ${round}: ${Object.keys(results).map((k) => `${k} ${Math.round(results[k].at(-1))} req/s ${cpu[k].at(-1).toFixed(1)} µs CPU/req`).join(', ')}`);
    }
    const baseline = median(results['no guard'] ?? [NaN]);
    const cpuBaseline = median(cpu['no guard'] ?? [NaN]);
    console.log('\n| route | req/s (median) | ratio to no guard | app CPU per request (median) | requests per CPU second, ratio to no guard |\n|---|---|---|---|---|');
    for (const name of Object.keys(results)) {
      const [rps, us] = [median(results[name]), median(cpu[name])];
      console.log(`| ${name} | ${Math.round(rps)} | ${(rps / baseline).toFixed(2)}x | ${us.toFixed(1)} µs | ${(cpuBaseline / us).toFixed(2)}x |`);
    }
    return true;
  } catch (e) {
    if (interrupted()) return false;
    console.error(`TokenGuard benchmark failed: ${e.message}`);
    const output = run.output();
    if (output) console.error(output);
    return false;
  } finally {
    await run.cleanup();
  }
}

const BENCHMARKS = {
  tokenguard: tokenGuardBenchmark,
  revocation: revocationBenchmark,
  'code-flow': codeFlowBenchmark,
  faults: faultsBenchmark,
  'sign-in-burst': signInBurstBenchmark,
  'auth-server': authServerBenchmark,
};
const chosen = process.argv.slice(2);
for (const name of chosen) if (!BENCHMARKS[name]) throw new Error(`unknown benchmark ${name}; choose from ${Object.keys(BENCHMARKS).join(', ')}`);
let ok = true;
for (const [name, benchmark] of Object.entries(BENCHMARKS)) {
  if (chosen.length > 0 && !chosen.includes(name)) continue;
  const started = performance.now();
  const passed = await benchmark();
  console.log(`\n${name} benchmark: ${passed ? 'done' : 'FAILED'} in ${((performance.now() - started) / 1000).toFixed(0)}s\n`);
  ok &&= passed;
}
process.exitCode = ok ? 0 : 1;
