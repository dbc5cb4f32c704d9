// Child processes for scripts/start.mjs and scripts/cli.mjs: spawned detached
// (so a terminal's Ctrl+C reaches only the launcher, which then stops them in
// order), their output prefixed line by line.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const EMBEDDED_DATA_DIR = resolve(ROOT, '.tessera/pgdata');
export const EMBEDDED_DATABASE = 'tessera';
const POSTGRES_CHILD = resolve(ROOT, 'scripts/postgres-child.mjs');
const EXIT_WITH_PARENT = pathToFileURL(resolve(ROOT, 'scripts/lib/exit-with-parent.mjs')).href;

/** TESSERA_EMBEDDED_PG_PORT, default 54329. */
export function embeddedPort(env = process.env) {
  const raw = env.TESSERA_EMBEDDED_PG_PORT;
  if (raw === undefined || raw === '') return 54329;
  const port = Number(raw);
  if (!/^\d+$/.test(raw) || port < 1 || port > 65535) {
    throw new Error(`TESSERA_EMBEDDED_PG_PORT=${JSON.stringify(raw)}: must be a port number from 1 to 65535`);
  }
  return port;
}

/** Writes each line of `stream` to `out` (or, when `out` is an array, keeps it there), prefixed. */
function pipeLines(stream, out, prefix) {
  if (!stream) return;
  createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) =>
    Array.isArray(out) ? out.push(`${prefix}${line}`) : out.write(`${prefix}${line}\n`),
  );
}

/**
 * Spawns `node <args>` detached, with an IPC channel, its stdout/stderr
 * prefixed with `[label]`. `exitWithParent` preloads a hook that sends the
 * child SIGTERM when this process dies without stopping it (SIGKILL).
 * `quiet` keeps the output in `child.output` instead (to show on failure).
 */
export function spawnNode(label, args, { env = process.env, exitWithParent = false, width = 10, quiet = false } = {}) {
  const child = spawn(process.execPath, [...(exitWithParent ? ['--import', EXIT_WITH_PARENT] : []), ...args], {
    cwd: ROOT,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const prefix = `[${label}]`.padEnd(width + 1);
  child.output = [];
  pipeLines(child.stdout, quiet ? child.output : process.stdout, prefix);
  pipeLines(child.stderr, quiet ? child.output : process.stderr, prefix);
  child.label = label;
  child.closed = new Promise((res) => child.once('close', (code, signal) => res({ code, signal })));
  return child;
}

/** True while the child has neither exited nor been reaped. */
export function running(child) {
  return child.exitCode === null && child.signalCode === null;
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves when the child has closed. */
export async function stopChild(child, graceMs = 10_000) {
  if (running(child)) {
    try {
      child.kill('SIGTERM');
    } catch {
      // already gone
    }
    const timer = setTimeout(() => {
      if (running(child)) {
        process.stderr.write(`${child.label} did not stop within ${graceMs / 1000}s; killing it\n`);
        child.kill('SIGKILL');
      }
    }, graceMs);
    await child.closed;
    clearTimeout(timer);
  } else {
    await child.closed;
  }
}

/**
 * Starts the embedded PostgreSQL (data in .tessera/pgdata) in its own process
 * and creates the `tessera` database if missing. Returns the child at once and
 * `ready`, which resolves to the database URL.
 */
export function startPostgresChild({ port, label = 'postgres', width, quiet = false } = {}) {
  const child = spawnNode(
    label,
    [POSTGRES_CHILD, '--data-dir', EMBEDDED_DATA_DIR, '--port', String(port), '--database', EMBEDDED_DATABASE],
    { width, quiet },
  );
  const ready = new Promise((res, rej) => {
    child.on('message', (message) => {
      if (message?.type === 'ready') res(message.url);
      else if (message?.type === 'error') rej(new Error(message.message));
    });
    child.closed.then(({ code, signal }) =>
      rej(new Error(`embedded PostgreSQL exited before it was ready (${signal ?? `exit code ${code}`})`)),
    );
    child.on('error', rej);
  });
  return { child, ready };
}
