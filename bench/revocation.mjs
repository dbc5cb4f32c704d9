// The revocation benchmark (issue 4, "Measure"), on 127.0.0.1 only: two auth-server instances behind one
// issuer on one PostgreSQL, and two resource apps (bench/src/main.ts), app 1 reaching instance A and app 2
// instance B through TokenGuard's authorizationServerUrl, both for one audience.
//   1. Delay: under a steady, rate-limited load on both apps, tokens (JWT and opaque, alternating) are revoked
//      one by one through instance A (RFC 7009); each app is polled every 5 ms with the revoked token until
//      it answers 401. Delay = arrival of the first 401 - arrival of the revocation response.
//   2. Throughput: the guarded route on each app with the feed on and off (the apps restarted with
//      feed:false), alternating, reported as medians and as the on/off ratio measured in the same run.
// Prints Markdown tables; exits non-zero if anything failed (a token not rejected within 5 s is a failure).
//   node bench/revocation.mjs            (after `npm run build && npx nest build bench`)
// Knobs: BENCH_REVOKE_TOKENS (50 per format), BENCH_REVOKE_LOAD_CONNECTIONS (16) and BENCH_REVOKE_LOAD_RATE
// (300 req/s per app), BENCH_REVOKE_ROUNDS (4), BENCH_REVOKE_SECONDS (3), BENCH_CONNECTIONS (32); BENCH_REVOKE_FEED=off
// runs the delay measurement with the feed off, a check of the failure path (revoked JWTs then stay valid).
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import {
  AUTH_MAIN,
  BENCH_KEY_ENCRYPTION_KEY,
  BENCH_MAIN,
  BenchRun,
  basic,
  freePort,
  interrupted,
  json,
  load,
  median,
  percentile,
  register,
  sleep,
  token,
  until,
} from './lib.mjs';

const env = (name, fallback) => Number(process.env[name] ?? fallback);
/** Tokens revoked per format. */
const TOKENS = env('BENCH_REVOKE_TOKENS', 50);
/** The steady load during the delay measurement, per app: connections and an overall rate (req/s). */
const LOAD_CONNECTIONS = env('BENCH_REVOKE_LOAD_CONNECTIONS', 16);
const LOAD_RATE = env('BENCH_REVOKE_LOAD_RATE', 300);
const POLL_MS = 5;
const SPACING_MS = 50;
const REJECT_WITHIN_MS = 5000;
/** The throughput comparison. */
const ROUNDS = env('BENCH_REVOKE_ROUNDS', 4);
const SECONDS = env('BENCH_REVOKE_SECONDS', 3);
const CONNECTIONS = env('BENCH_CONNECTIONS', 32);
const WARMUP_SECONDS = 1;
const HEARTBEAT_SECONDS = 1;
const DELAY_WITH_FEED = process.env.BENCH_REVOKE_FEED !== 'off';

/** The issuer both instances share, as behind a load balancer: never reached. */
const ISSUER = 'http://auth.bench.test';
/** One API served by both apps: never reached either. */
const AUDIENCE = 'http://api.bench.test';
const FORMATS = ['jwt', 'opaque'];
const FORMAT_NAMES = { jwt: 'JWT', opaque: 'opaque (cached)' };

const ms = (x) => (x === undefined ? '–' : `${x < 10 ? x.toFixed(1) : Math.round(x)} ms`);
const seconds = (since) => `${((performance.now() - since) / 1000).toFixed(1)}s`;

/** Runs `fn` over `items` with at most `limit` at a time; results in order. */
async function pool(items, limit, fn) {
  const out = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  }));
  return out;
}

async function get(url, bearer) {
  // Once Ctrl-C is tearing things down, no new requests: a connection kept busy would keep its app from closing.
  if (interrupted()) throw new Error('interrupted');
  const res = await fetch(url, { headers: { authorization: `Bearer ${bearer}` } });
  const text = await res.text();
  return { status: res.status, text };
}

/** Polls `url` with `bearer` every POLL_MS from t0 until a 401 (or REJECT_WITHIN_MS); the delay is from t0 to the 401's arrival. */
async function untilRejected(url, bearer, t0) {
  const unexpected = [];
  let tick = t0;
  let polls = 0;
  for (;;) {
    const { status, text } = await get(url, bearer);
    const at = performance.now();
    polls++;
    if (status === 401) {
      let description;
      try {
        description = JSON.parse(text).error_description;
      } catch {
        description = text;
      }
      return { delay: at - t0, polls, description, unexpected };
    }
    if (status !== 200) unexpected.push(status);
    if (at - t0 > REJECT_WITHIN_MS) return { delay: undefined, polls, last: status, unexpected };
    tick += POLL_MS;
    const wait = tick - performance.now();
    if (wait > 0) await sleep(wait);
    else tick = performance.now();
  }
}

export async function revocationBenchmark() {
  const run = new BenchRun();
  const started = performance.now();
  const timings = [];
  const phase = (name, since) => timings.push(`${name} ${seconds(since)}`);
  const failures = [];
  try {
    // One PostgreSQL, two auth-server instances (one after the other: each runs the migrations at boot).
    let t = performance.now();
    const databaseUrl = await run.database();
    const iat = randomBytes(24).toString('base64url');
    const instances = {};
    for (const name of ['A', 'B']) {
      const port = await freePort();
      const url = `http://127.0.0.1:${port}`;
      run.spawn(`auth-${name}`, AUTH_MAIN, [], {
        DATABASE_URL: databaseUrl,
        TESSERA_AUTH_PORT: String(port),
        TESSERA_ISSUER: ISSUER,
        TESSERA_INITIAL_ACCESS_TOKEN: iat,
        TESSERA_KEY_ENCRYPTION_KEY: BENCH_KEY_ENCRYPTION_KEY,
        TESSERA_REVOCATION_FEED_HEARTBEAT: String(HEARTBEAT_SECONDS),
      });
      await until(async () => (await fetch(`${url}/health/ready`)).ok, `auth server ${name}`, 60_000);
      const metadata = await json(await fetch(`${url}/.well-known/oauth-authorization-server`));
      if (metadata.issuer !== ISSUER || !metadata.revocation_feed_endpoint) {
        throw new Error(`instance ${name}: metadata issuer ${metadata.issuer}, revocation_feed_endpoint ${metadata.revocation_feed_endpoint}`);
      }
      instances[name] = url;
    }
    phase('PostgreSQL and 2 auth servers', t);

    // Clients (RFC 7591) and tokens, all through instance A.
    t = performance.now();
    const A = instances.A;
    const rs = await register(A, iat, { client_name: 'bench resource server', scope: '', resource_server_for: [AUDIENCE] });
    const clients = {};
    for (const format of FORMATS) {
      clients[format] = await register(A, iat, { client_name: `bench ${format}`, scope: 'bench', access_token_format: format, resources: [AUDIENCE] });
    }
    const steady = await token(A, clients.jwt, AUDIENCE);
    const tokens = Object.fromEntries(
      await Promise.all(FORMATS.map(async (f) => [f, await pool(Array.from({ length: TOKENS }), 2, () => token(A, clients[f], AUDIENCE))])),
    );
    phase(`clients and ${2 * TOKENS + 1} tokens`, t);

    // The resource apps: app 1 reaches instance A, app 2 instance B; (re)started with the feed on or off.
    const APPS = [['app 1', 'A'], ['app 2', 'B']];
    const apps = [];
    const stopApp = async (k) => {
      if (apps[k]) await run.stop(apps[k].child);
      apps[k] = undefined;
    };
    const startApp = async (k, feed) => {
      await stopApp(k);
      const [name, instance] = APPS[k];
      const port = await freePort();
      const url = `http://127.0.0.1:${port}`;
      const args = { issuer: ISSUER, audience: AUDIENCE, clientId: rs.client_id, clientSecret: rs.client_secret, port, authorizationServerUrl: instances[instance], feed };
      const child = run.spawn(`${name} (feed ${feed ? 'on' : 'off'})`, BENCH_MAIN, [JSON.stringify(args)]);
      const app = (apps[k] = { name: `${name} (follows instance ${instance})`, url, child });
      await until(async () => (await fetch(`${url}/ready`)).ok, `${app.name}, feed ${feed ? 'on' : 'off'}`);
      const { status, text } = await get(`${url}/guarded`, steady);
      if (status !== 200) throw new Error(`${app.name} refused the steady token: ${status} ${text}`);
      const ready = JSON.parse((await get(`${url}/ready`, steady)).text);
      if (ready.revocationFeed.following !== feed || (feed && !ready.revocationFeed.caughtUp)) {
        throw new Error(`${app.name}: feed ${feed ? 'on' : 'off'} asked, but TokenGuard reports ${JSON.stringify(ready)}`);
      }
    };
    const startApps = (feed) => Promise.all(APPS.map((_, k) => startApp(k, feed)));

    // 1. Delay, feed on, under a steady load on both apps (from its own process).
    t = performance.now();
    await startApps(DELAY_WITH_FEED);
    phase(`resource apps up (feed ${DELAY_WITH_FEED ? 'on' : 'off'})`, t);
    t = performance.now();
    const loader = run.spawn('load', 'bench/load.mjs', [
      JSON.stringify({ targets: apps.map((app) => ({ url: `${app.url}/guarded`, headers: { authorization: `Bearer ${steady}` } })), connections: LOAD_CONNECTIONS, rate: LOAD_RATE }),
    ]);
    const loadResult = new Promise((res, rej) => {
      loader.on('message', (m) => (m?.type === 'result' ? res(m.results) : m?.type === 'error' ? rej(new Error(`load: ${m.message}`)) : undefined));
      loader.closed.then(({ code, signal }) => rej(new Error(`the load process ended without a result (${signal ?? `exit code ${code}`})`)));
    });
    loadResult.catch(() => undefined);
    await sleep(1000); // let the load settle

    const delays = Object.fromEntries(FORMATS.map((f) => [f, apps.map(() => [])]));
    const revokeDurations = Object.fromEntries(FORMATS.map((f) => [f, []]));
    const descriptions = {};
    const order = Array.from({ length: TOKENS }, (_, i) => FORMATS.map((f) => [f, i])).flat();
    console.log(
      `Revocation benchmark: ${TOKENS} tokens per format revoked through instance A, polled every ${POLL_MS} ms on both apps${DELAY_WITH_FEED ? '' : ' (FEED OFF)'}; ` +
        `background load ${LOAD_CONNECTIONS} connections at ${LOAD_RATE} req/s on each app; 127.0.0.1`,
    );
    for (const [format, i] of order) {
      const bearer = tokens[format][i];
      const label = `${format} token #${i + 1}`;
      // Accepted by both apps first: the opaque one is now in each app's introspection cache, the JWT in its verified-token cache.
      const before = await Promise.all(apps.map((app) => get(`${app.url}/guarded`, bearer)));
      const refusedBefore = before.map((r, k) => (r.status === 200 ? null : `${apps[k].name} ${r.status} ${r.text}`)).filter(Boolean);
      if (refusedBefore.length > 0) {
        failures.push(`${label}: not accepted before its revocation: ${refusedBefore.join('; ')}`);
        continue;
      }
      const sent = performance.now();
      const res = await fetch(`${A}/oauth2/revoke`, {
        method: 'POST',
        headers: { authorization: basic(clients[format].client_id, clients[format].client_secret) },
        body: new URLSearchParams({ token: bearer, token_type_hint: 'access_token' }),
      });
      await res.arrayBuffer();
      const t0 = performance.now();
      if (res.status !== 200) {
        failures.push(`${label}: revocation answered ${res.status}`);
        continue;
      }
      revokeDurations[format].push(t0 - sent);
      const outcomes = await Promise.all(apps.map((app) => untilRejected(`${app.url}/guarded`, bearer, t0)));
      outcomes.forEach((o, k) => {
        if (o.delay === undefined) failures.push(`${label}: still accepted by ${apps[k].name} ${REJECT_WITHIN_MS / 1000}s after its revocation (last status ${o.last}, ${o.polls} polls)`);
        else {
          delays[format][k].push(o.delay);
          const key = `${FORMAT_NAMES[format]}: "${o.description}"`;
          descriptions[key] = (descriptions[key] ?? 0) + 1;
        }
        if (o.unexpected.length > 0) failures.push(`${label}: ${apps[k].name} answered ${o.unexpected.join(', ')} while polled`);
      });
      await sleep(SPACING_MS);
    }
    loader.stopRequested = true;
    loader.send({ type: 'stop' });
    const loadStats = await loadResult;
    loadStats.forEach((s, k) => {
      if (s.non2xx > 0 || s.errors > 0 || s.timeouts > 0) {
        failures.push(`background load on ${apps[k].name}: ${s.non2xx} non-2xx (${JSON.stringify(s.statusCodes)}), ${s.errors} errors, ${s.timeouts} timeouts`);
      }
    });
    phase(`delay measurement (${order.length} revocations)`, t);

    // The delay report, now: it stands even if the throughput part fails.
    const names = apps.map((app) => app.name);
    const otherFirst = [1, 0]; // app 2, which follows the OTHER instance, first
    const report = [];
    report.push(
      `\n#### Revocation-to-rejection delay (feed ${DELAY_WITH_FEED ? 'on' : 'OFF'}; revoked through instance A; ${TOKENS} tokens per format; heartbeat ${HEARTBEAT_SECONDS} s; ` +
        `background load ${LOAD_CONNECTIONS} connections at ${LOAD_RATE} req/s on each app; polled every ${POLL_MS} ms)\n`,
    );
    report.push('| token | resource app | rejected | p50 | p99 | max |', '|---|---|---|---|---|---|');
    for (const format of FORMATS) {
      for (const k of otherFirst) {
        const d = delays[format][k];
        report.push(`| ${FORMAT_NAMES[format]} | ${names[k]} | ${d.length}/${TOKENS} | ${ms(d.length ? percentile(d, 50) : undefined)} | ${ms(d.length ? percentile(d, 99) : undefined)} | ${ms(d.length ? Math.max(...d) : undefined)} |`);
      }
    }
    report.push('', '| RFC 7009 revocation request at instance A (its own duration) | n | p50 | p99 | max |', '|---|---|---|---|---|');
    for (const format of FORMATS) {
      const d = revokeDurations[format];
      report.push(`| ${FORMAT_NAMES[format]} | ${d.length} | ${ms(d.length ? percentile(d, 50) : undefined)} | ${ms(d.length ? percentile(d, 99) : undefined)} | ${ms(d.length ? Math.max(...d) : undefined)} |`);
    }
    report.push(
      '',
      `Percentiles are nearest-rank: with ${TOKENS} samples per row, p99 is ${TOKENS >= 100 ? 'the sample at rank ceil(0.99 n)' : 'the largest'}. ` +
        `The first 401 said: ${Object.entries(descriptions).map(([k, v]) => `${k} x${v}`).join('; ') || 'nothing (no 401 at all)'}.`,
      `Background load meanwhile: ${loadStats.map((s, k) => `${names[k].split(' (')[0]} ${s.requests} requests in ${s.seconds} s (latency p50 ${s.latencyP50} ms, p99 ${s.latencyP99} ms), ${s.non2xx} non-2xx`).join('; ')}.`,
    );
    console.log(report.join('\n'));

    // 2. Throughput, feed on vs off, one app at a time (the other stopped). Each app is restarted whenever its
    //    mode changes, in the order on|off off|on on|off ..., so that every on/off pair is measured a few seconds apart.
    t = performance.now();
    await Promise.all(APPS.map((_, k) => stopApp(k)));
    const rps = APPS.map(() => ({ on: [], off: [] }));
    const modes = Array.from({ length: ROUNDS }, (_, r) => (r % 2 === 0 ? ['on', 'off'] : ['off', 'on'])).flat();
    const bearer = { authorization: `Bearer ${steady}` };
    console.log(`\nThroughput: GET /guarded with a cached JWT, ${CONNECTIONS} connections, ${SECONDS}s per measurement, ${ROUNDS} rounds alternating feed on/off, one app at a time`);
    for (const k of APPS.keys()) {
      let current;
      for (const mode of modes) {
        if (mode !== current) {
          await startApp(k, mode === 'on');
          current = mode;
          await load(`${apps[k].url}/guarded`, bearer, { connections: CONNECTIONS, seconds: WARMUP_SECONDS });
        }
        rps[k][mode].push(await load(`${apps[k].url}/guarded`, bearer, { connections: CONNECTIONS, seconds: SECONDS }));
      }
      console.log(`  ${names[k]}: ${rps[k].on.map((on, r) => `round ${r + 1} on ${Math.round(on)} / off ${Math.round(rps[k].off[r])}`).join(', ')} req/s`);
      await stopApp(k);
    }
    phase(`throughput (${ROUNDS} rounds)`, t);

    const lines = [];
    lines.push(
      `\n#### Throughput with the revocation feed on vs off (GET /guarded, cached JWT, ${CONNECTIONS} connections, ${ROUNDS} rounds of ${SECONDS} s, medians)\n`,
      '| resource app | feed on req/s | feed off req/s | on/off (of the medians) | on/off per round | median of the per-round ratios |',
      '|---|---|---|---|---|---|',
    );
    for (const [k, name] of names.entries()) {
      const on = median(rps[k].on);
      const off = median(rps[k].off);
      const ratios = rps[k].on.map((x, r) => x / rps[k].off[r]);
      lines.push(
        `| ${name} | ${Math.round(on)} | ${Math.round(off)} | ${(on / off).toFixed(2)}x | ${ratios.map((x) => `${x.toFixed(2)}x`).join(', ')} | ${median(ratios).toFixed(2)}x |`,
      );
    }
    lines.push('', `Per app, in the order on|off off|on ...; the app is restarted (a fresh process, then a ${WARMUP_SECONDS} s warm-up load) whenever its mode changes; the other app is stopped meanwhile.`);
    console.log(lines.join('\n'));
    if (failures.length > 0) {
      console.error(`\n${failures.length} failure(s):\n${failures.map((f) => `- ${f}`).join('\n')}`);
    }
    return failures.length === 0;
  } catch (e) {
    if (interrupted()) return false;
    console.error(`revocation benchmark failed: ${e.message}`);
    if (failures.length > 0) console.error(failures.map((f) => `- ${f}`).join('\n'));
    const output = run.output();
    if (output) console.error(output);
    return false;
  } finally {
    const t = performance.now();
    await run.cleanup();
    phase('cleanup', t);
    console.log(`\nTimings: ${timings.join(', ')}; total ${seconds(started)}`);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = (await revocationBenchmark()) ? 0 : 1;
}
