// npm start: the auth server and the resource server, and, when DATABASE_URL is
// unset, an embedded PostgreSQL with its data in .tessera/pgdata.
//
// First it builds the apps, unless dist is up to date with the sources, configuration
// and package-lock.json (scripts/lib/build.mjs keeps a fingerprint of them in dist).
// Once both servers answer /health/ready, it prints a banner: the issuer, the sign-in
// page, how to create a user and a client, where the data lives, how to stop.
//
// Every child runs detached, its output prefixed [auth], [resource], [postgres].
// On SIGINT/SIGTERM the apps stop first, then PostgreSQL; the exit code is 0.
// If a child dies on its own, everything stops and the exit code is 1.
// Configuration (TESSERA_*, PORT) passes through the environment to the apps.
//
// The two apps are wired together with no configuration at all:
// - the resource server gets a database of its own, TESSERA_RESOURCE_DATABASE_URL:
//   unless set, `<DATABASE_URL's database>_notes` on the same server (tessera_notes
//   in the embedded PostgreSQL), created when missing;
// - it trusts the auth server's issuer (TESSERA_ISSUER, else http://localhost:<auth port>);
// - it gets introspection credentials by registering itself (RFC 7591) with
//   TESSERA_INITIAL_ACCESS_TOKEN, as the resource server for its own
//   TESSERA_RESOURCE_URL (which lets it introspect tokens of that audience and
//   read the revocation feed). When neither that nor TESSERA_RESOURCE_CLIENT_ID
//   is set, a random initial access token is made for this run and given to both
//   apps: only the resource server knows it. The resource server stores the client
//   it registered in its own database and reuses it on later runs.
// - with the embedded PostgreSQL and no TESSERA_KEY_ENCRYPTION_KEY, the auth server
//   gets the key-encryption key in .tessera/key-encryption-key (mode 600), generated
//   on the first start. With DATABASE_URL, the operator sets it (or the auth server
//   refuses to start; TESSERA_ALLOW_PLAINTEXT_KEYS=1 opts out).
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { buildIfChanged } from './lib/build.mjs';
import { databaseName, ensureDatabase } from './lib/databases.mjs';
import { EMBEDDED_KEK_FILE, ensureEmbeddedKek } from './lib/key-encryption-key.mjs';
import { embeddedPort, ROOT, spawnNode, startPostgresChild, stopChild } from './lib/processes.mjs';

const APPS = [
  { label: 'auth', main: 'dist/apps/auth-server/apps/auth-server/src/main.js', env: authEnv },
  { label: 'resource', main: 'dist/apps/resource-server/apps/resource-server/src/main.js', env: resourceEnv },
];

const say = (line) => process.stderr.write(`[start]    ${line}\n`);

let postgres = null;
const apps = [];
/** The apps' common environment; DATABASE_URL is set once the embedded PostgreSQL is ready. */
const env = { ...process.env };
// The apps' output reaches the terminal through this process (a pipe to them): pretty logs when it is one.
if (!env.TESSERA_LOG_FORMAT && process.stdout.isTTY) env.TESSERA_LOG_FORMAT = 'pretty';
/** The resource server's database: set once it exists. */
let resourceDatabaseUrl = env.TESSERA_RESOURCE_DATABASE_URL;
let shuttingDown = null;
/** Stops a build still running when we are told to stop. */
const building = new AbortController();
/** The key-encryption key's file, when this run took the key from it. */
let keyFile = null;

function shutdown(code, why) {
  if (shuttingDown) return shuttingDown;
  if (why) say(why);
  building.abort();
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

/** What the consent page says of the sample resource server's scopes, unless TESSERA_SCOPE_DESCRIPTIONS says otherwise. */
const SAMPLE_SCOPE_DESCRIPTIONS = JSON.stringify({ 'notes:read': 'Read your notes', 'notes:write': 'Create, change and delete your notes' });

function authEnv() {
  return { TESSERA_SCOPE_DESCRIPTIONS: SAMPLE_SCOPE_DESCRIPTIONS, ...env };
}

/** The resource server's: its own database (never the auth server's), and the auth server's issuer. */
function resourceEnv() {
  const { DATABASE_URL: _authDatabase, ...rest } = env;
  // The auth server's default issuer (libs/config): http://localhost:<TESSERA_AUTH_PORT, else PORT, else 3000>.
  const authPort = env.TESSERA_AUTH_PORT || env.PORT || '3000';
  return { ...rest, TESSERA_RESOURCE_DATABASE_URL: resourceDatabaseUrl, TESSERA_ISSUER: env.TESSERA_ISSUER || `http://localhost:${authPort}` };
}

async function main() {
  await buildIfChanged(ROOT, { onLog: say, signal: building.signal });
  if (shuttingDown) return;
  const missing = APPS.filter((app) => !existsSync(resolve(ROOT, app.main)));
  if (missing.length > 0) throw new Error(`${missing.map((a) => a.main).join(', ')} not found after the build`);

  if (!env.DATABASE_URL) {
    if (!env.TESSERA_KEY_ENCRYPTION_KEY) {
      const { key, created } = ensureEmbeddedKek();
      env.TESSERA_KEY_ENCRYPTION_KEY = key;
      keyFile = EMBEDDED_KEK_FILE;
      say(
        created
          ? `generated a key-encryption key into ${EMBEDDED_KEK_FILE} (mode 600): it encrypts the signing keys and client-secret hashes in .tessera/pgdata; keep it with the data`
          : `using the key-encryption key in ${EMBEDDED_KEK_FILE}`,
      );
    }
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

  if (!resourceDatabaseUrl) {
    const name = `${databaseName(env.DATABASE_URL)}_notes`;
    try {
      resourceDatabaseUrl = await ensureDatabase(env.DATABASE_URL, name, { onLog: say });
    } catch (e) {
      throw new Error(
        `cannot create the resource server's database ${name} next to DATABASE_URL's (${e?.message ?? e}); ` +
          'create it, or set TESSERA_RESOURCE_DATABASE_URL to a database it may use',
      );
    }
    if (shuttingDown) return;
  }

  if (!env.TESSERA_RESOURCE_CLIENT_ID && !env.TESSERA_INITIAL_ACCESS_TOKEN) {
    // Registration is open to this secret only, which only the resource server gets told.
    env.TESSERA_INITIAL_ACCESS_TOKEN = randomBytes(32).toString('base64url');
    say('generated an initial access token for this run: the resource server registers itself with it (set TESSERA_INITIAL_ACCESS_TOKEN to choose one)');
  }

  for (const app of APPS) {
    const child = spawnNode(app.label, [app.main], { env: app.env(), exitWithParent: true });
    apps.push(child);
    watch(child);
  }

  await Promise.all([waitUntilReady(authUrl()), waitUntilReady(resourceUrl())]);
  if (!shuttingDown) process.stderr.write(banner());
}

/** Where the launcher reaches an app: its listen address, or loopback when it listens on every address. */
function localUrl(port) {
  const host = env.TESSERA_HOST && !['0.0.0.0', '::'].includes(env.TESSERA_HOST) ? env.TESSERA_HOST : '127.0.0.1';
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}
const authUrl = () => localUrl(env.TESSERA_AUTH_PORT || env.PORT || '3000');
const resourceUrl = () => localUrl(env.TESSERA_RESOURCE_PORT || '3001');

/** Resolves once `<url>/health/ready` answers 200 (polled while we are not stopping). */
async function waitUntilReady(url) {
  while (!shuttingDown) {
    const ok = await fetch(`${url}/health/ready`, { signal: AbortSignal.timeout(2000) }).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((res) => setTimeout(res, 250));
  }
}

/** A database URL without its password. */
function withoutPassword(url) {
  try {
    const u = new URL(url);
    u.password = '';
    return u.toString();
  } catch {
    return '(DATABASE_URL)';
  }
}

function banner() {
  const issuer = resourceEnv().TESSERA_ISSUER.replace(/\/+$/, '');
  const resource = env.TESSERA_RESOURCE_URL || `http://localhost:${env.TESSERA_RESOURCE_PORT || '3001'}`;
  const data = postgres
    ? [
        `data:         .tessera/pgdata (embedded PostgreSQL on 127.0.0.1:${embeddedPort(env)}; databases ${databaseName(env.DATABASE_URL)} and ${databaseName(resourceDatabaseUrl)})`,
        ...(keyFile ? [`              key-encryption key in ${relative(ROOT, keyFile)}: keep it with .tessera/pgdata`] : []),
      ]
    : [`data:         ${withoutPassword(env.DATABASE_URL)} (auth server), ${withoutPassword(resourceDatabaseUrl)} (resource server)`];
  const lines = [
    '',
    'Tessera is up.',
    `issuer:       ${issuer}   (metadata: ${issuer}/.well-known/oauth-authorization-server)`,
    `sign-in page: ${issuer}/login`,
    `notes API:    ${resource}   (the sample resource server)`,
    ...data,
    "a user:       echo 'a long password' | npm run -s cli -- users create alice --password -",
    'a client:     npm run -s cli -- clients create --name demo --scope "notes:read notes:write"   (prints its id and secret)',
    `              then: curl -s ${issuer}/oauth2/token -u "$CLIENT_ID:$CLIENT_SECRET" -d grant_type=client_credentials -d resource=${resource}`,
    `stop:         Ctrl-C (or kill ${process.pid})`,
    '',
  ];
  return `${lines.join('\n')}\n`;
}

main().catch((e) => void shutdown(1, `cannot start: ${e?.message ?? e}`));
