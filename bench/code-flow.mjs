// The authorization code flow benchmark, on 127.0.0.1 only: one auth server, one user (created with the
// operator CLI), clients registered per RFC 7591 (public ones for the code flow).
//   1. Throughput: WORKERS concurrent loops for BENCH_SECONDS per measurement, BENCH_ROUNDS rounds, each round
//      running every operation once: a code flow (GET /oauth2/authorize, signed in with consent remembered,
//      302 with a code; then POST /oauth2/token redeeming it with PKCE), a refresh (rotation), and the
//      baseline, client_credentials token requests, for opaque and JWT clients. Reported as medians and as
//      ratios to the baseline measured in the same run: this machine is shared and noisy.
//   2. Sign-in cost: BENCH_SIGN_INS sequential sign-ins, each from a fresh browser (GET /login for the CSRF
//      cookie, then a successful POST /login), the POST's latency against the GET's.
//   node bench/run.mjs code-flow            (after `npm run build`)
// Knobs: BENCH_ROUNDS (3), BENCH_SECONDS (5), BENCH_CODE_FLOW_WORKERS (8), BENCH_SIGN_INS (20).
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { BenchRun, interrupted, median, percentile, register, ROOT, token } from './lib.mjs';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const WORKERS = Number(process.env.BENCH_CODE_FLOW_WORKERS ?? 8);
const SIGN_INS = Number(process.env.BENCH_SIGN_INS ?? 20);
const WARMUP_SECONDS = 1;
const WARMUP_SIGN_INS = 2;
const REQUEST_TIMEOUT_MS = 10_000;

export const CLI_MAIN = 'dist/apps/cli/apps/cli/src/main.js';
const USERNAME = 'bench';
/** Registered, never reached: the authorization response is read from the 302's Location. */
export const REDIRECT_URI = 'http://127.0.0.1:9/cb';
/** The RFC 8707 audience every client is registered for: never reached either. */
const AUDIENCE = 'http://api.bench.test';
const FORMATS = ['opaque', 'jwt'];
const BASELINE = 'client_credentials, opaque';

const ENTITIES = { amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" };
const ms = (x) => `${x < 10 ? x.toFixed(1) : Math.round(x)} ms`;

/** fetch with manual redirects and a timeout; throws unless the status is `expect`. Resolves to the response and its body. */
export async function call(url, { expect, ...init } = {}) {
  // Once Ctrl-C is tearing things down, no new requests: a connection kept busy would keep the server from closing.
  if (interrupted()) throw new Error('interrupted');
  const res = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS), ...init });
  const body = await res.text();
  if (res.status !== expect) throw new Error(`${init.method ?? 'GET'} ${new URL(url).pathname}: ${res.status} (expected ${expect}) ${body.slice(0, 300)}`);
  return { res, body };
}

export const post = (url, form, { expect, cookie }) =>
  call(url, { method: 'POST', headers: cookie ? { cookie } : {}, body: new URLSearchParams(form), expect });

/** A browser's cookies: each Set-Cookie of a response kept, sent back as one Cookie header. */
export class CookieJar {
  #cookies = new Map();
  keep(res) {
    for (const line of res.headers.getSetCookie()) {
      const pair = line.split(';', 1)[0];
      const at = pair.indexOf('=');
      this.#cookies.set(pair.slice(0, at), pair.slice(at + 1));
    }
  }
  get(name) {
    return this.#cookies.get(name);
  }
  header() {
    return [...this.#cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }
}

/** The value of a page's hidden input, unescaped. */
export function hidden(page, name) {
  const match = page.match(new RegExp(`<input type="hidden" name="${name}" value="([^"]*)">`));
  if (!match) throw new Error(`no hidden input "${name}" in the page`);
  return match[1].replace(/&(amp|lt|gt|quot|#39);/g, (_, entity) => ENTITIES[entity]);
}

/** Creates the benchmark's user with the operator CLI, on the database of a server started with `serverEnv`; resolves to its password. */
export async function createUser(serverEnv) {
  const password = randomBytes(18).toString('base64url');
  await promisify(execFile)(process.execPath, [CLI_MAIN, 'users', 'create', USERNAME, '--password', password], {
    cwd: ROOT,
    env: { ...process.env, ...serverEnv },
    timeout: 60_000,
  });
  return password;
}

/** A fresh browser signs in: GET /login (CSRF cookie and input), then POST /login. Resolves to its jar and both latencies. */
export async function signIn(issuer, password) {
  const jar = new CookieJar();
  let started = performance.now();
  const page = await call(`${issuer}/login`, { expect: 200 });
  const getMs = performance.now() - started;
  jar.keep(page.res);
  const csrf = hidden(page.body, 'csrf');
  if (!jar.get('tessera_csrf')) throw new Error('GET /login: no tessera_csrf cookie');
  started = performance.now();
  const done = await post(`${issuer}/login`, { csrf, username: USERNAME, password }, { expect: 303, cookie: jar.header() });
  const postMs = performance.now() - started;
  jar.keep(done.res);
  if (!jar.get('tessera_session')) throw new Error('POST /login: 303 without a tessera_session cookie');
  return { jar, getMs, postMs };
}

/** A new authorization request for `client`: its query, state and PKCE code_verifier (RFC 7636, S256). */
function authorizationRequest(client) {
  const verifier = randomBytes(32).toString('base64url');
  const state = randomBytes(12).toString('base64url');
  const query = new URLSearchParams({
    response_type: 'code',
    client_id: client.client_id,
    redirect_uri: REDIRECT_URI,
    scope: 'bench',
    state,
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
  });
  return { query, state, verifier };
}

/** Redeems the code in an authorization response (a Location, checked: redirect URI, state, RFC 9207 iss) for tokens. */
async function redeem(issuer, client, { res }, { state, verifier }) {
  const location = new URL(res.headers.get('location'));
  const params = location.searchParams;
  if (`${location.origin}${location.pathname}` !== REDIRECT_URI || params.get('state') !== state || params.get('iss') !== issuer || !params.get('code')) {
    throw new Error(`unexpected authorization response: ${location.href}`);
  }
  const form = { grant_type: 'authorization_code', code: params.get('code'), redirect_uri: REDIRECT_URI, code_verifier: verifier, client_id: client.client_id };
  const tokens = JSON.parse((await post(`${issuer}/oauth2/token`, form, { expect: 200 })).body);
  if (!tokens.access_token || !tokens.refresh_token) throw new Error(`the code was redeemed for ${Object.keys(tokens).join(', ')}`);
  return tokens;
}

/** The first authorization request of `client`: the consent page, allowed and remembered; its code redeemed. */
export async function rememberConsent(issuer, client, jar) {
  const request = authorizationRequest(client);
  const page = await call(`${issuer}/oauth2/authorize?${request.query}`, { headers: { cookie: jar.header() }, expect: 200 });
  jar.keep(page.res);
  const form = { csrf: hidden(page.body, 'csrf'), request: hidden(page.body, 'request'), remember: 'yes', decision: 'allow' };
  return redeem(issuer, client, await post(`${issuer}/oauth2/authorize/decision`, form, { expect: 303, cookie: jar.header() }), request);
}

/** One code flow with consent remembered: GET /oauth2/authorize (302 with a code), then the token request. */
export async function codeFlow(issuer, client, cookie) {
  const request = authorizationRequest(client);
  return redeem(issuer, client, await call(`${issuer}/oauth2/authorize?${request.query}`, { headers: { cookie }, expect: 302 }), request);
}

/** One refresh (RFC 6749 §6) by a public client; resolves to the rotated refresh token. */
async function refresh(issuer, client, refreshToken) {
  const form = { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: client.client_id };
  const tokens = JSON.parse((await post(`${issuer}/oauth2/token`, form, { expect: 200 })).body);
  if (!tokens.refresh_token || tokens.refresh_token === refreshToken) throw new Error('the refresh token was not rotated');
  return tokens.refresh_token;
}

/** WORKERS loops, each calling `op(worker)` back to back for `seconds`; resolves to completed operations per second. */
async function throughput(op, seconds) {
  let completed = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: WORKERS }, async (_, worker) => {
      while (performance.now() < deadline) {
        await op(worker);
        completed++;
      }
    }),
  );
  return completed / ((performance.now() - started) / 1000);
}

export async function codeFlowBenchmark() {
  const run = new BenchRun();
  try {
    const { issuer, iat, env: serverEnv } = await run.authServer();

    // The user, through the operator CLI (after the server's migrations), and the clients.
    const password = await createUser(serverEnv);
    const confidential = {};
    const publicClients = {};
    for (const format of FORMATS) {
      const common = { scope: 'bench', access_token_format: format, resources: [AUDIENCE] };
      confidential[format] = await register(issuer, iat, { client_name: `bench client_credentials ${format}`, ...common });
      publicClients[format] = await register(issuer, iat, {
        client_name: `bench code flow ${format}`,
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code', 'refresh_token'],
        redirect_uris: [REDIRECT_URI],
        ...common,
      });
    }

    // One session for every worker; consent remembered per client; a refresh token chain per worker and client.
    const { jar } = await signIn(issuer, password);
    const cookie = jar.header();
    const chains = {};
    for (const format of FORMATS) {
      await rememberConsent(issuer, publicClients[format], jar);
      chains[format] = await Promise.all(Array.from({ length: WORKERS }, async () => (await codeFlow(issuer, publicClients[format], cookie)).refresh_token));
    }

    // 1. Throughput. [operation, HTTP requests per operation, one operation by a worker]
    const operations = FORMATS.flatMap((format) => [
      [`client_credentials, ${format}`, 1, () => token(issuer, confidential[format], AUDIENCE)],
      [`code flow, ${format}`, 2, () => codeFlow(issuer, publicClients[format], cookie)],
      [`refresh (rotation), ${format}`, 1, async (w) => (chains[format][w] = await refresh(issuer, publicClients[format], chains[format][w]))],
    ]);
    const results = Object.fromEntries(operations.map(([name]) => [name, []]));
    console.log(`Code flow benchmark: ${ROUNDS} rounds x ${operations.length} operations, ${SECONDS}s each (after a ${WARMUP_SECONDS}s warm-up each), ${WORKERS} workers, 127.0.0.1`);
    for (const [, , op] of operations) await throughput(op, WARMUP_SECONDS);
    for (let round = 1; round <= ROUNDS; round++) {
      for (const [name, , op] of operations) results[name].push(await throughput(op, SECONDS));
      console.log(`  round ${round}: ${Object.entries(results).map(([name, v]) => `${name} ${Math.round(v.at(-1))}/s`).join(', ')}`);
    }
    const baseline = median(results[BASELINE]);
    const perRound = (name) => results[name].map((x, r) => `${(x / results[BASELINE][r]).toFixed(2)}x`).join(', ');
    console.log(`\n| operation (${WORKERS} workers) | HTTP requests each | per second (median) | ratio to ${BASELINE} req/s | per round |\n|---|---|---|---|---|`);
    for (const [name, requests] of operations) {
      const rate = median(results[name]);
      console.log(`| ${name} | ${requests} | ${Math.round(rate)} | ${(rate / baseline).toFixed(2)}x | ${perRound(name)} |`);
    }

    // 2. Sign-in cost, sequential, every attempt from a fresh browser and successful (failures would count towards the throttle).
    const gets = [];
    const posts = [];
    for (let i = 0; i < WARMUP_SIGN_INS + SIGN_INS; i++) {
      const { getMs, postMs } = await signIn(issuer, password);
      if (i < WARMUP_SIGN_INS) continue;
      gets.push(getMs);
      posts.push(postMs);
    }
    const [getP50, getP99] = [percentile(gets, 50), percentile(gets, 99)];
    console.log(`\n| request (${SIGN_INS} sequential, after ${WARMUP_SIGN_INS} warm-up) | p50 | p99 | p50 ratio to GET /login | p99 ratio to GET /login |\n|---|---|---|---|---|`);
    for (const [name, xs] of [['GET /login', gets], ['POST /login, successful sign-in', posts]]) {
      const [p50, p99] = [percentile(xs, 50), percentile(xs, 99)];
      console.log(`| ${name} | ${ms(p50)} | ${ms(p99)} | ${(p50 / getP50).toFixed(1)}x | ${(p99 / getP99).toFixed(1)}x |`);
    }
    console.log(`\nPercentiles are nearest-rank: with ${SIGN_INS} samples, p99 is ${SIGN_INS >= 100 ? 'the sample at rank ceil(0.99 n)' : 'the largest'}.`);
    return true;
  } catch (e) {
    if (interrupted()) return false;
    console.error(`code flow benchmark failed: ${e.message}`);
    const output = run.output();
    if (output) console.error(output);
    return false;
  } finally {
    await run.cleanup();
  }
}
