import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { loadResourceServerConfig, type ResourceServerConfig } from '@tessera/config';
import { createTestDatabase, freePort } from '@tessera/testing';
import { ResourceServerModule } from '../src/app.module.js';
import type { LogCapture } from '@tessera/logging';
import { configureApp, fastifyAdapter, resourceServerLogging } from '../src/bootstrap.js';
import { IntrospectionCredentials } from '../src/introspection/introspection-credentials.js';

export interface RunningResourceServer {
  app: NestFastifyApplication;
  /** Where it listens, and also its resource identifier (the audience it requires). */
  url: string;
  config: ResourceServerConfig;
  databaseUrl: string;
  credentials: IntrospectionCredentials;
  /** Stops the server and keeps its database (to start it again on it). Idempotent. */
  close(): Promise<void>;
  /** Stops the server and drops its database (unless it was given one). */
  stop(): Promise<void>;
}

/**
 * The real resource-server module on a fresh database of the test run's
 * PostgreSQL (or on `databaseUrl`, to restart on one), served on 127.0.0.1
 * over real HTTP. `env` is its whole TESSERA_* environment besides the
 * database, port and resource identifier.
 */
export async function startResourceServer(
  /** `port`: where to listen, when its resource identifier (`http://127.0.0.1:<port>`) must be known before, to register its client. */
  /** `logs`: where its log lines go (JSON, from level info); default stdout, errors only. */
  options: { issuer: string; env?: Record<string, string>; databaseUrl?: string; port?: number; logs?: LogCapture },
): Promise<RunningResourceServer> {
  const db = options.databaseUrl ? { url: options.databaseUrl, drop: async () => {} } : await createTestDatabase();
  const port = options.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const config = loadResourceServerConfig({
    TESSERA_RESOURCE_DATABASE_URL: db.url,
    TESSERA_RESOURCE_PORT: String(port),
    TESSERA_RESOURCE_URL: url,
    TESSERA_ISSUER: options.issuer,
    TESSERA_LOG_FORMAT: 'json',
    TESSERA_LOG_LEVEL: options.logs ? 'info' : 'error',
    ...options.env,
  });
  const logging = resourceServerLogging(config, options.logs);
  const moduleRef = await Test.createTestingModule({ imports: [ResourceServerModule.forRoot(config)] })
    .setLogger(logging.nest)
    .compile();
  const app = configureApp(moduleRef.createNestApplication<NestFastifyApplication>(fastifyAdapter(), { logger: logging.nest }), logging);
  await app.listen(port, '127.0.0.1');
  let closing: Promise<void> | undefined;
  const close = () => (closing ??= app.close());
  return {
    app,
    url,
    config,
    databaseUrl: db.url,
    credentials: app.get(IntrospectionCredentials),
    close,
    async stop() {
      await close();
      await db.drop();
    },
  };
}
