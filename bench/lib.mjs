// Helpers shared by the benchmarks (bench/run.mjs, bench/revocation.mjs): a PostgreSQL database, the
// apps as child processes, RFC 7591 registration and client_credentials tokens, autocannon, statistics,
// and cleanup of everything a run started, on success, on failure and on Ctrl-C.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import autocannon from 'autocannon';
import pg from 'pg';
import { freePort } from '../scripts/lib/embedded-postgres.mjs';
import { ROOT, spawnNode, stopChild } from '../scripts/lib/processes.mjs';

/** The key-encryption key of this run's auth servers (one for all: instances may share a database). */
export const BENCH_KEY_ENCRYPTION_KEY = randomBytes(32).toString('base64url');

export { freePort, ROOT };
export const AUTH_MAIN = 'dist/apps/auth-server/apps/auth-server/src/main.js';
export const BENCH_MAIN = 'dist/bench/bench/src/main.js';
const POSTGRES_CHILD = 'scripts/postgres-child.mjs';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** The middle value (the mean of the two middle ones for an even count). */
export function median(xs) {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
/** Nearest-rank percentile (p in 0..100) of a non-empty list. */
export function percentile(xs, p) {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length))) - 1];
}

/** Polls `check` every 100 ms until it returns true; throws after `ms`. */
export async function until(check, what, ms = 30_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`${what} not ready within ${ms / 1000}s`);
    await sleep(100);
  }
}

export async function json(res) {
  if (!res.ok) throw new Error(`${res.url}: ${res.status} ${await res.text()}`);
  return res.json();
}

export const basic = (id, secret) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

/** RFC 7591 registration with the initial access token. */
export async function register(baseUrl, iat, metadata) {
  return json(await fetch(`${baseUrl}/oauth2/register`, {
    method: 'POST',
    headers: { authorization: `Bearer ${iat}`, 'content-type': 'application/json' },
    body: JSON.stringify(metadata),
  }));
}

/** A client_credentials access token for `audience` (RFC 8707), scope `bench`. */
export async function token(baseUrl, client, audience) {
  const body = new URLSearchParams({ grant_type: 'client_credentials', scope: 'bench', resource: audience });
  return (await json(await fetch(`${baseUrl}/oauth2/token`, { method: 'POST', headers: { authorization: basic(client.client_id, client.client_secret) }, body }))).access_token;
}

/** Autocannon runs in progress in this process: stopped first on Ctrl-C, so the apps can close their connections. */
const loads = new Set();

/** Autocannon at full speed on one URL; resolves to the mean req/s, rejects on any non-2xx or error. */
export async function load(url, headers, options) {
  return (await loadCounted(url, headers, options)).rps;
}

/** `load`, also counting the requests answered. */
export async function loadCounted(url, headers, { connections, seconds }) {
  const result = await autocannonRun({ url, connections, duration: seconds, headers });
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${url}: ${result.non2xx} non-2xx, ${result.errors} errors`);
  return { rps: result.requests.average, requests: result.requests.total };
}

/**
 * autocannon with any of its options, stopped first on Ctrl-C like every load here; resolves to its result
 * whatever the statuses. `started` gets the instance (to stop it early).
 */
export function autocannonRun(options, started) {
  return new Promise((res, rej) => {
    if (signalled) return rej(new Error('interrupted'));
    const instance = autocannon(options, (err, result) => {
      loads.delete(instance);
      if (err) return rej(err);
      if (signalled) return rej(new Error('interrupted'));
      res(result);
    });
    loads.add(instance);
    started?.(instance);
  });
}

/**
 * CPU seconds (user + system) a process has used so far, from /proc (Linux). CPU time per request is far
 * steadier than requests per second on a shared machine: time the process waits for a core is not counted.
 */
export function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields from the 3rd (state) on
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/** USER_HZ: 100 on Linux, whatever the kernel's own tick rate. */
const CLOCK_TICKS = 100;

/** A process's memory figure from /proc/<pid>/status (VmRSS, or VmHWM: its peak RSS), in bytes. */
export function memoryBytes(pid, field = 'VmHWM') {
  const match = readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'));
  if (!match) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(match[1]) * 1024;
}

/** Resets a process's peak RSS (VmHWM) to its current RSS (Linux, our own processes); false where that is refused. */
export function resetPeakRss(pid) {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** One statement on the server's admin database. A connection lost while idle (PostgreSQL stopping under us) is not a crash. */
async function adminQuery(adminUrl, sql) {
  const client = new pg.Client({ connectionString: adminUrl });
  client.on('error', () => undefined);
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Runs still to clean up; a signal cleans them all up, then exits. */
const active = new Set();
let signalled = false;
/** True once Ctrl-C (or SIGTERM) has started tearing everything down: errors from then on are expected. */
export const interrupted = () => signalled;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, async () => {
    if (signalled) return;
    signalled = true;
    console.error(`\n${signal}: stopping the benchmark's processes and removing its database`);
    for (const instance of loads) instance.stop();
    await Promise.allSettled([...active].map((run) => run.cleanup()));
    process.exit(130);
  });
}

/**
 * What one benchmark started: apps (detached, stopped with SIGTERM, and stopping themselves should this
 * process die), and PostgreSQL (its own process, stopped last, its data folder then removed). Every process's
 * output goes to a file of its own in the run's log folder (removed last), written by the kernel: this process,
 * which runs the load, never reads it while the process runs (an auth server logs every request), only its
 * tail for a report (a process that exits on its own, `output()` after a failure).
 */
export class BenchRun {
  children = new Set();
  stopping = false;
  #postgres;
  #dataDir;
  #logDir;
  #logs = 0;
  #drop;
  #cleanup;

  constructor() {
    active.add(this);
  }

  /** A new file in the run's log folder (created at the first), for the output of the process `label`. */
  #logFile(label) {
    if (!this.#logDir) {
      this.#logDir = resolve(ROOT, '.tessera', `bench-logs-${process.pid}-${randomBytes(3).toString('hex')}`);
      mkdirSync(this.#logDir, { recursive: true });
    }
    return resolve(this.#logDir, `${++this.#logs}-${label.replace(/[^A-Za-z0-9_-]+/g, '_')}.log`);
  }

  /** Starts `node main args` with env added; its output goes to a file, whose tail is shown if it dies on its own. */
  spawn(label, main, args, env = {}) {
    if (this.stopping) throw new Error('interrupted');
    // BENCH_PROFILE=<dir>: each app writes a V8 CPU profile there when it stops (open it in Chrome DevTools).
    const profile = process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
    const child = spawnNode(label, [...profile, main, ...args], { env: { ...process.env, ...env }, logFile: this.#logFile(label), exitWithParent: true });
    this.children.add(child);
    child.closed.then(({ code, signal }) => {
      if (!this.stopping && !child.stopRequested) {
        console.error(`${label} exited on its own (${signal ?? `exit code ${code}`}):\n${child.tail(30).join('\n')}`);
      }
    });
    return child;
  }

  async stop(child) {
    child.stopRequested = true;
    await stopChild(child);
    this.children.delete(child);
  }

  /** A fresh database: on DATABASE_URL's server when set, else on an embedded PostgreSQL of this run. Resolves to its URL. */
  async database() {
    let adminUrl = process.env.DATABASE_URL;
    if (!adminUrl) {
      this.#dataDir = resolve(ROOT, '.tessera', `bench-pg-${process.pid}-${randomBytes(3).toString('hex')}`);
      const port = await freePort();
      if (this.stopping) throw new Error('interrupted');
      const child = (this.#postgres = spawnNode('postgres', [POSTGRES_CHILD, '--data-dir', this.#dataDir, '--port', String(port), '--database', 'postgres'], { logFile: this.#logFile('postgres') }));
      adminUrl = await new Promise((res, rej) => {
        child.on('message', (m) => (m?.type === 'ready' ? res(m.url) : m?.type === 'error' ? rej(new Error(m.message)) : undefined));
        child.closed.then(({ code, signal }) => rej(new Error(`embedded PostgreSQL exited before it was ready (${signal ?? `exit code ${code}`}):\n${child.tail(10).join('\n')}`)));
      });
    }
    const name = `tessera_bench_${randomBytes(4).toString('hex')}`;
    await adminQuery(adminUrl, `CREATE DATABASE ${name}`);
    this.#drop = () => adminQuery(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    if (this.stopping) throw new Error('interrupted');
    const url = new URL(adminUrl);
    url.pathname = `/${name}`;
    return url.toString();
  }

  /** An auth server on a fresh database, with registration open to a random initial access token; resolves once it is ready. */
  async authServer(env = {}) {
    const databaseUrl = await this.database();
    const port = await freePort();
    const issuer = `http://127.0.0.1:${port}`;
    const iat = randomBytes(24).toString('base64url');
    const serverEnv = {
      DATABASE_URL: databaseUrl,
      TESSERA_AUTH_PORT: String(port),
      TESSERA_ISSUER: issuer,
      TESSERA_INITIAL_ACCESS_TOKEN: iat,
      TESSERA_KEY_ENCRYPTION_KEY: BENCH_KEY_ENCRYPTION_KEY,
      // Rate limits off: one bench client sends far more than a real one may; auth-server.mjs measures the limiter's cost.
      TESSERA_RATE_LIMITS: '0',
      ...env,
    };
    const child = this.spawn('auth', AUTH_MAIN, [], serverEnv);
    await until(async () => (await fetch(`${issuer}/health/ready`)).ok, 'auth server', 60_000);
    return { issuer, iat, env: serverEnv, child };
  }

  /** Apps first, then the database, then PostgreSQL and its data folder, then the log folder. Safe to call more than once. */
  cleanup() {
    this.#cleanup ??= (async () => {
      this.stopping = true;
      await Promise.all([...this.children].map((c) => stopChild(c)));
      try {
        await this.#drop?.();
      } catch (e) {
        if (!this.#postgres) console.error(`could not drop the benchmark database: ${e.message}`);
      }
      if (this.#postgres) {
        await stopChild(this.#postgres);
        try {
          rmSync(this.#dataDir, { recursive: true, force: true });
        } catch (e) {
          console.error(`could not remove ${this.#dataDir}: ${e.message}`);
        }
      }
      if (this.#logDir) {
        try {
          rmSync(this.#logDir, { recursive: true, force: true });
        } catch (e) {
          console.error(`could not remove ${this.#logDir}: ${e.message}`);
        }
      }
      active.delete(this);
    })();
    return this.#cleanup;
  }

  /** The last lines of every child's output (info-level lines left out: Nest's LOG lines, JSON lines at "info"), for a failure report. */
  output(lines = 20) {
    return [...this.children]
      .map((c) => c.tail(lines, (line) => !/\bLOG\b|"level":"info"/.test(line)))
      .filter((kept) => kept.length)
      .map((kept) => kept.join('\n'))
      .join('\n');
  }
}
