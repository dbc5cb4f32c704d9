// Child processes for scripts/start.mjs, scripts/cli.mjs and the benchmarks:
// spawned detached (so a terminal's Ctrl+C reaches only the launcher, which
// then stops them in order), their output prefixed line by line, or kept.
import { spawn } from 'node:child_process';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
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

/** Lines of a `quiet` child's output kept in `child.output`: the last ones (between this many and twice as many). */
export const KEPT_LINES = 1000;

/** Writes each line of `stream` to `out` (or, when `out` is an array, keeps the last KEPT_LINES or more there), prefixed. */
function pipeLines(stream, out, prefix) {
  if (!stream) return;
  createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => {
    if (!Array.isArray(out)) return out.write(`${prefix}${line}\n`);
    out.push(`${prefix}${line}`);
    if (out.length >= 2 * KEPT_LINES) out.splice(0, out.length - KEPT_LINES);
  });
}

/**
 * The last `lines` lines of a file that pass `keep` (all by default), read from its end: at most `maxBytes` of it
 * (the lines in it only, when the rest passes `keep` too seldom). [] when the file cannot be read.
 */
export function tailLines(file, lines, keep = () => true, maxBytes = 16 * 2 ** 20) {
  let fd;
  try {
    fd = openSync(file, 'r');
  } catch {
    return [];
  }
  try {
    const size = fstatSync(fd).size;
    let start = size;
    let text = Buffer.alloc(0);
    let kept = [];
    while (start > 0 && size - start < maxBytes) {
      // Each read as long as everything read so far: the file is read (and decoded) about twice at most.
      const length = Math.min(start, Math.max(64 * 1024, size - start));
      const chunk = Buffer.alloc(length);
      const read = readSync(fd, chunk, 0, length, start - length);
      start -= length;
      text = Buffer.concat([chunk.subarray(0, read), text]);
      const all = text.toString('utf8').split('\n');
      if (all.at(-1) === '') all.pop();
      if (start > 0) all.shift(); // perhaps cut: the rest of a line before `start`
      kept = all.filter(keep);
      if (kept.length >= lines) break;
    }
    return kept.slice(-lines);
  } catch {
    return [];
  } finally {
    closeSync(fd);
  }
}

/**
 * Spawns `node <args>` detached, with an IPC channel, its stdout/stderr
 * prefixed with `[label]`. `exitWithParent` preloads a hook that sends the
 * child SIGTERM when this process dies without stopping it (SIGKILL).
 * `quiet` keeps the output's last lines (KEPT_LINES or more) in `child.output`
 * instead (to show on failure). `logFile` (a path) sends stdout and stderr to
 * that file instead, appended, through a file descriptor: the kernel writes it,
 * and no process here reads the output while the child runs (the benchmarks:
 * their load generator runs in this process). `child.tail(lines, keep)`: the
 * last lines of the output kept (or of the file) passing `keep`, prefixed.
 */
export function spawnNode(label, args, { env = process.env, exitWithParent = false, width = 10, quiet = false, logFile } = {}) {
  const fd = logFile === undefined ? undefined : openSync(logFile, 'a');
  let child;
  try {
    child = spawn(process.execPath, [...(exitWithParent ? ['--import', EXIT_WITH_PARENT] : []), ...args], {
      cwd: ROOT,
      env,
      detached: true,
      stdio: ['ignore', fd ?? 'pipe', fd ?? 'pipe', 'ipc'],
    });
  } finally {
    if (fd !== undefined) closeSync(fd); // the child has its own copy
  }
  const prefix = `[${label}]`.padEnd(width + 1);
  child.output = [];
  pipeLines(child.stdout, quiet ? child.output : process.stdout, prefix);
  pipeLines(child.stderr, quiet ? child.output : process.stderr, prefix);
  child.tail = (lines, keep = () => true) =>
    logFile === undefined
      ? child.output.filter(keep).slice(-lines)
      : tailLines(logFile, lines, (line) => keep(`${prefix}${line}`)).map((line) => `${prefix}${line}`);
  child.label = label;
  child.logFile = logFile;
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
