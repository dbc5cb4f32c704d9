// npm run bench: requests per second through TokenGuard (a JWT, a cached opaque token)
// against the same route with no guard, in one run, on 127.0.0.1 only.
// Figures are ratios to the unguarded route measured in the same run: this machine is shared and noisy.
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import autocannon from 'autocannon';
import pg from 'pg';
import { freePort, startEmbeddedPostgres } from '../scripts/lib/embedded-postgres.mjs';
import { ROOT, spawnNode, stopChild } from '../scripts/lib/processes.mjs';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const AUTH_MAIN = 'dist/apps/auth-server/apps/auth-server/src/main.js';
const BENCH_MAIN = 'dist/bench/bench/src/main.js';

const children = [];
let postgres;

async function until(check, what, ms = 30_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`${what} not ready within ${ms / 1000}s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function startPostgres() {
  const external = process.env.DATABASE_URL;
  const adminUrl = external ?? (postgres = await startEmbeddedPostgres({ dataDir: resolve(ROOT, '.tessera', `bench-pg-${process.pid}`), port: await freePort(), persistent: false, fast: true })).url;
  const name = `tessera_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: async () => {
    const c = new pg.Client({ connectionString: adminUrl });
    await c.connect();
    await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await c.end();
  } };
}

function spawnApp(label, main, args, env) {
  const child = spawnNode(label, [main, ...args], { env: { ...process.env, ...env }, quiet: true });
  children.push(child);
  child.closed.then(({ code }) => {
    if (code && !stopping) console.error(child.output.join('\n'));
  });
  return child;
}

async function json(res) {
  if (!res.ok) throw new Error(`${res.url}: ${res.status} ${await res.text()}`);
  return res.json();
}

async function register(issuer, iat, metadata) {
  return json(await fetch(`${issuer}/oauth2/register`, {
    method: 'POST',
    headers: { authorization: `Bearer ${iat}`, 'content-type': 'application/json' },
    body: JSON.stringify(metadata),
  }));
}

async function token(issuer, client, audience) {
  const basic = Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64');
  const body = new URLSearchParams({ grant_type: 'client_credentials', scope: 'bench', resource: audience });
  return (await json(await fetch(`${issuer}/oauth2/token`, { method: 'POST', headers: { authorization: `Basic ${basic}` }, body }))).access_token;
}

function load(url, headers) {
  return new Promise((res, rej) => {
    autocannon({ url, connections: CONNECTIONS, duration: SECONDS, headers }, (err, result) => {
      if (err) return rej(err);
      if (result.non2xx > 0 || result.errors > 0) return rej(new Error(`${url}: ${result.non2xx} non-2xx, ${result.errors} errors`));
      res(result.requests.average);
    });
  });
}

let stopping = false;
async function cleanup() {
  stopping = true;
  await Promise.all(children.map((c) => stopChild(c)));
  await postgres?.stop();
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  const db = await startPostgres();
  const authPort = await freePort();
  const issuer = `http://127.0.0.1:${authPort}`;
  const iat = randomBytes(24).toString('base64url');
  spawnApp('auth', AUTH_MAIN, [], { DATABASE_URL: db.url, TESSERA_AUTH_PORT: String(authPort), TESSERA_ISSUER: issuer, TESSERA_INITIAL_ACCESS_TOKEN: iat });
  await until(async () => (await fetch(`${issuer}/health/ready`)).ok, 'auth server');

  const benchPort = await freePort();
  const audience = `http://127.0.0.1:${benchPort}`;
  const rs = await register(issuer, iat, { client_name: 'bench resource server' });
  const tokens = {};
  for (const format of ['jwt', 'opaque']) {
    const client = await register(issuer, iat, { client_name: `bench ${format}`, scope: 'bench', access_token_format: format, resources: [audience] });
    tokens[format] = await token(issuer, client, audience);
  }
  spawnApp('bench', BENCH_MAIN, [JSON.stringify({ issuer, audience, clientId: rs.client_id, clientSecret: rs.client_secret, port: benchPort })], {});
  await until(async () => (await fetch(`${audience}/plain`)).ok, 'bench app');

  const scenarios = {
    'no guard': [`${audience}/plain`, {}],
    'a guard that accepts all': [`${audience}/accept-all`, {}],
    'TokenGuard, JWT': [`${audience}/guarded`, { authorization: `Bearer ${tokens.jwt}` }],
    'TokenGuard, cached opaque': [`${audience}/guarded`, { authorization: `Bearer ${tokens.opaque}` }],
  };
  for (const [url, headers] of Object.values(scenarios)) {
    const r = await fetch(url, { headers });
    if (!r.ok) throw new Error(`${url}: ${r.status} ${await r.text()}`);
  }
  const results = Object.fromEntries(Object.keys(scenarios).map((k) => [k, []]));
  console.log(`TokenGuard benchmark: ${ROUNDS} rounds x ${Object.keys(scenarios).length} scenarios, ${SECONDS}s each, ${CONNECTIONS} connections, 127.0.0.1`);
  for (let round = 1; round <= ROUNDS; round++) {
    for (const [name, [url, headers]] of Object.entries(scenarios)) {
      results[name].push(await load(url, headers));
    }
    console.log(`  round ${round}: ${Object.entries(results).map(([k, v]) => `${k} ${Math.round(v.at(-1))} req/s`).join(', ')}`);
  }
  const baseline = median(results['no guard']);
  console.log('\n| route | req/s (median) | ratio to no guard |\n|---|---|---|');
  for (const [name, rps] of Object.entries(results)) {
    console.log(`| ${name} | ${Math.round(median(rps))} | ${(median(rps) / baseline).toFixed(2)}x |`);
  }
  await db.drop();
}

main()
  .catch((e) => {
    console.error(`bench failed: ${e.message}`);
    for (const c of children) if (c.output.length) console.error(c.output.slice(-20).join('\n'));
    process.exitCode = 1;
  })
  .finally(cleanup);
