// npm run cli -- <command>: the operator CLI (apps/cli), on the same database as `npm start`.
//
// 1. Builds the CLI (`nest build cli`, a few seconds) when its output is missing
//    or older than its sources.
// 2. Database: DATABASE_URL when set; else the embedded PostgreSQL in
//    .tessera/pgdata: the running one (npm start is up), or one started just for
//    this command and stopped after it.
// 3. Runs dist/apps/cli/apps/cli/src/main.js with DATABASE_URL set, and, on the embedded
//    PostgreSQL without TESSERA_KEY_ENCRYPTION_KEY, the key in .tessera/key-encryption-key
//    (generated there, as npm start does, when missing).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { runningPostmaster, urlFor } from './lib/embedded-postgres.mjs';
import { EMBEDDED_KEK_FILE, ensureEmbeddedKek } from './lib/key-encryption-key.mjs';
import { EMBEDDED_DATA_DIR, EMBEDDED_DATABASE, embeddedPort, ROOT, startPostgresChild, stopChild } from './lib/processes.mjs';

const CLI_MAIN = resolve(ROOT, 'dist/apps/cli/apps/cli/src/main.js');
const NEST = resolve(ROOT, 'node_modules/@nestjs/cli/bin/nest.js');
const SOURCE_DIRS = [resolve(ROOT, 'apps/cli/src'), ...libSourceDirs()];
const CONFIG_FILES = ['tsconfig.json', 'apps/cli/tsconfig.app.json', 'nest-cli.json'].map((f) => resolve(ROOT, f));

const say = (line) => process.stderr.write(`cli: ${line}\n`);

function libSourceDirs() {
  const libs = resolve(ROOT, 'libs');
  if (!existsSync(libs)) return [];
  return readdirSync(libs)
    .filter((name) => name !== 'testing')
    .map((name) => join(libs, name, 'src'))
    .filter((dir) => existsSync(dir));
}

/** Newest modification time (ms) of the TypeScript sources the CLI is built from; 0 without sources (an image with dist only). */
function newestSource() {
  let newest = 0;
  const visit = (path) => {
    const stat = statSync(path);
    if (stat.isDirectory()) {
      for (const entry of readdirSync(path)) visit(join(path, entry));
    } else if (/\.ts$/.test(path) && !/\.(int-|e2e-)?spec\.ts$/.test(path)) {
      newest = Math.max(newest, stat.mtimeMs);
    }
  };
  for (const dir of SOURCE_DIRS) if (existsSync(dir)) visit(dir);
  for (const file of CONFIG_FILES) if (existsSync(file) && newest > 0) newest = Math.max(newest, statSync(file).mtimeMs);
  return newest;
}

function buildIfNeeded() {
  const built = existsSync(CLI_MAIN) ? statSync(CLI_MAIN).mtimeMs : 0;
  const sources = newestSource();
  if (built > 0 && built >= sources) return;
  if (!existsSync(NEST)) {
    throw new Error(`${CLI_MAIN} is ${built ? 'older than its sources' : 'missing'} and @nestjs/cli is not installed to build it: run \`npm install\` then \`npm run build\``);
  }
  say(built ? 'sources changed; rebuilding (nest build cli)' : 'building (nest build cli)');
  const started = Date.now();
  // The build's output goes to stderr: stdout stays the command's own (--json).
  const result = spawnSync(process.execPath, [NEST, 'build', 'cli'], { cwd: ROOT, stdio: ['ignore', 2, 2] });
  if (result.status !== 0) {
    // tsc emits even with type errors: drop the entry point so the next run builds again.
    rmSync(CLI_MAIN, { force: true });
    throw new Error(`nest build cli failed (${result.signal ?? `exit code ${result.status}`}); see above`);
  }
  say(`built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

/** The database for the command: { url, postgres } where postgres is a child we started and must stop. */
async function database(env) {
  if (env.DATABASE_URL) return { url: env.DATABASE_URL, postgres: null };
  const running = runningPostmaster(EMBEDDED_DATA_DIR);
  if (running) return { url: urlFor(running.port, EMBEDDED_DATABASE), postgres: null };
  const pg = startPostgresChild({ port: embeddedPort(env), quiet: true });
  try {
    return { url: await pg.ready, postgres: pg.child };
  } catch (e) {
    for (const line of pg.child.output) process.stderr.write(`${line}\n`);
    await stopChild(pg.child);
    throw e;
  }
}

function runCli(args, env) {
  // Not detached: a Ctrl+C reaches the command itself.
  const child = spawn(process.execPath, [CLI_MAIN, ...args], { cwd: process.cwd(), env, stdio: 'inherit' });
  const forward = (signal) => () => child.kill(signal);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, forward(signal));
  return new Promise((res) => {
    child.once('error', (e) => {
      say(`cannot run ${CLI_MAIN}: ${e.message}`);
      res(1);
    });
    child.once('close', (code, signal) => res(code ?? (signal ? 1 : 0)));
  });
}

async function main() {
  const args = process.argv.slice(2);
  buildIfNeeded();
  // Help and argument errors need no database.
  // (After `--`, everything is an argument: a client id may be `-h...`.)
  const options = args.includes('--') ? args.slice(0, args.indexOf('--')) : args;
  const wantsHelp = args.length === 0 || options.some((a) => ['--help', '-h'].includes(a)) || args[0] === 'help';
  if (wantsHelp) return runCli(args, process.env);

  const embedded = !process.env.DATABASE_URL;
  const kek = embedded && !process.env.TESSERA_KEY_ENCRYPTION_KEY ? ensureEmbeddedKek() : null;
  if (kek?.created) say(`generated a key-encryption key into ${EMBEDDED_KEK_FILE} (mode 600), as npm start does; keep it with .tessera/pgdata`);
  const { url, postgres } = await database(process.env);
  try {
    return await runCli(args, { ...process.env, DATABASE_URL: url, ...(kek && { TESSERA_KEY_ENCRYPTION_KEY: kek.key }) });
  } finally {
    if (postgres) await stopChild(postgres, 20_000);
  }
}

main().then(
  (code) => process.exit(code),
  (e) => {
    say(`error: ${e?.message ?? e}`);
    process.exit(1);
  },
);
