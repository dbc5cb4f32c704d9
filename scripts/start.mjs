// npm start: the auth server and the resource server, and, when DATABASE_URL is
// unset, an embedded PostgreSQL with its data in .tessera/pgdata.
//
// Every child runs detached, its output prefixed [auth], [resource], [postgres].
// On SIGINT/SIGTERM the apps stop first, then PostgreSQL; the exit code is 0.
// If a child dies on its own, everything stops and the exit code is 1.
// Configuration (TESSERA_*, PORT) passes through the environment to the apps.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { embeddedPort, ROOT, spawnNode, startPostgresChild, stopChild } from './lib/processes.mjs';

const APPS = [
  { label: 'auth', main: 'dist/apps/auth-server/apps/auth-server/src/main.js' },
  { label: 'resource', main: 'dist/apps/resource-server/apps/resource-server/src/main.js' },
];

const say = (line) => process.stderr.write(`[start]    ${line}\n`);

let postgres = null;
const apps = [];
/** The apps' environment; DATABASE_URL is set once the embedded PostgreSQL is ready. */
const env = { ...process.env };
let shuttingDown = null;

function shutdown(code, why) {
  if (shuttingDown) return shuttingDown;
  if (why) say(why);
  shuttingDown = (async () => {
    if (apps.length > 0) {
      await Promise.all(apps.map((child) => stopChild(child)));
      say(`${apps.map((a) => a.label).join(' and ')} stopped`);
    }
    if (postgres) {
      await stopChild(postgres, 20_000);
      if (env.DATABASE_URL) say('PostgreSQL stopped');
    }
    process.exit(code);
  })();
  return shuttingDown;
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => void shutdown(0, `${signal}: stopping`));
}

/** A child that exits while we are not stopping takes everything down with it. */
function watch(child) {
  child.closed.then(({ code, signal }) => {
    if (!shuttingDown) void shutdown(1, `${child.label} exited unexpectedly (${signal ?? `exit code ${code}`}); stopping everything`);
  });
  child.on('error', (e) => {
    if (!shuttingDown) void shutdown(1, `${child.label} could not be started: ${e.message}`);
  });
}

async function main() {
  const missing = APPS.filter((app) => !existsSync(resolve(ROOT, app.main)));
  if (missing.length > 0) {
    throw new Error(`${missing.map((a) => a.main).join(', ')} not found: run \`npm run build\` first (\`npm start\` does it)`);
  }

  if (!env.DATABASE_URL) {
    const port = embeddedPort(env);
    const started = Date.now();
    const pg = startPostgresChild({ port });
    postgres = pg.child;
    const url = await pg.ready;
    if (shuttingDown) return;
    watch(postgres);
    env.DATABASE_URL = url;
    say(`embedded PostgreSQL ready on 127.0.0.1:${port} (data in .tessera/pgdata) in ${Date.now() - started} ms`);
  }

  for (const app of APPS) {
    const child = spawnNode(app.label, [app.main], { env, exitWithParent: true });
    apps.push(child);
    watch(child);
  }
}

main().catch((e) => void shutdown(1, `cannot start: ${e?.message ?? e}`));
