import { randomBytes } from 'node:crypto';
import { Test } from '@nestjs/testing';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { loadAuthServerConfig, type AuthServerConfig } from '@tessera/config';
import type { Clock, PasswordHasher } from '@tessera/oauth-core';
import type { AuthServer } from '@tessera/server';
import { createTestDatabase, FastPasswordHasher, freePort, TcpProxy } from '@tessera/testing';
import { KeyEncryptionKeys } from '@tessera/tokens';
import { AppModule } from '../src/app.module.js';
import { AUTH_SERVER } from '../src/oauth/oauth.tokens.js';
import { authServerLogging, configureApp, fastifyAdapter } from '../src/bootstrap.js';
import type { LogCapture } from '@tessera/logging';

export const INITIAL_ACCESS_TOKEN = 'test-initial-access-token-0123456789';
/** The key-encryption key of this test file's servers (one for all, since several may share a database): 32 random bytes. */
export const TEST_KEY_ENCRYPTION_KEY = randomBytes(32).toString('base64url');

/** The key-encryption keys of the test servers, for a KeySet built beside them (what the CLI does). */
export function testKeyEncryption(): KeyEncryptionKeys {
  return new KeyEncryptionKeys({ current: TEST_KEY_ENCRYPTION_KEY });
}

export interface RunningAuthServer {
  app: NestFastifyApplication;
  url: string;
  config: AuthServerConfig;
  /** What composeAuthServer built for this server: its endpoints, its user directory (with its password hasher), its clock. */
  services: AuthServer;
  databaseUrl: string;
  /** Present with `{ proxy: true }`: sits between the server and PostgreSQL, to cut the database off. */
  proxy?: TcpProxy;
  /** Every route the app registered with Fastify (method and path, `:param` style), in registration order. */
  routes: { method: string; url: string }[];
  stop(): Promise<void>;
}

/**
 * The real auth-server module on a fresh database of the test run's PostgreSQL
 * (or on `databaseUrl`, which `stop()` then leaves in place), served on
 * 127.0.0.1 over real HTTP, on `port` when given (to restart an instance where
 * its followers expect it).
 *
 * Passwords are hashed with `passwordHasher`, by default a fast test hasher (not the 128 MiB scrypt of
 * production, which `defaultPasswordHasher()` from @tessera/server gives); create users with
 * `services.users`, which uses it. `clock` replaces the system clock, for tests about lifetimes.
 */
export async function startAuthServer(
  options: {
    env?: Record<string, string>;
    proxy?: boolean;
    databaseUrl?: string;
    port?: number;
    /** The server's clock; default the system clock. */
    clock?: Clock;
    /** The server's password hasher; default `new FastPasswordHasher()`. */
    passwordHasher?: PasswordHasher;
    /** Where the server's log lines go (JSON, from level info); default stdout, warnings and errors only. */
    logs?: LogCapture;
  } = {},
): Promise<RunningAuthServer> {
  const db = options.databaseUrl ? { url: options.databaseUrl, drop: async () => {} } : await createTestDatabase();
  const proxied = options.proxy ? await TcpProxy.for(db.url) : undefined;
  const proxy = proxied?.proxy;
  const port = options.port ?? (await freePort());
  const config = loadAuthServerConfig({
    DATABASE_URL: proxied?.url ?? db.url,
    TESSERA_AUTH_PORT: String(port),
    TESSERA_ISSUER: `http://127.0.0.1:${port}`,
    TESSERA_INITIAL_ACCESS_TOKEN: INITIAL_ACCESS_TOKEN,
    TESSERA_KEY_ENCRYPTION_KEY: TEST_KEY_ENCRYPTION_KEY,
    TESSERA_LOG_FORMAT: 'json',
    TESSERA_LOG_LEVEL: options.logs ? 'info' : 'warn',
    ...options.env,
  });
  const logging = authServerLogging(config, options.logs);
  const moduleRef = await Test.createTestingModule({
    imports: [AppModule.forRoot(config, { clock: options.clock, passwordHasher: options.passwordHasher ?? new FastPasswordHasher(), ...logging.compose })],
  })
    .setLogger(logging.nest)
    .compile();
  const adapter = fastifyAdapter(config);
  const routes: { method: string; url: string }[] = [];
  adapter.getInstance().addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) routes.push({ method, url: route.url });
  });
  const app = configureApp(moduleRef.createNestApplication<NestFastifyApplication>(adapter, { logger: logging.nest }), logging);
  await app.listen(port, '127.0.0.1');
  return {
    app,
    url: `http://127.0.0.1:${port}`,
    config,
    services: app.get<AuthServer>(AUTH_SERVER),
    databaseUrl: db.url,
    proxy,
    routes,
    async stop() {
      await app.close();
      await proxy?.stop();
      await db.drop();
    },
  };
}

/** Registers a client through RFC 7591 and returns its credentials. */
export async function registerClient(
  baseUrl: string,
  metadata: Record<string, unknown> = {},
): Promise<{ client_id: string; client_secret: string } & Record<string, unknown>> {
  const res = await fetch(`${baseUrl}/oauth2/register`, {
    method: 'POST',
    headers: { authorization: `Bearer ${INITIAL_ACCESS_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ client_name: 'test client', scope: 'read write', ...metadata }),
  });
  if (res.status !== 201) throw new Error(`registration failed: ${res.status} ${await res.text()}`);
  return res.json();
}

export function basicAuth(id: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
}

export function postForm(url: string, body: string | Record<string, string>, headers: Record<string, string> = {}) {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: typeof body === 'string' ? body : new URLSearchParams(body).toString(),
  });
}
