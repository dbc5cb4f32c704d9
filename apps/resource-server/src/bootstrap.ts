import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { ResourceServerConfig } from '@tessera/config';
import { createLogger, PinoNestLogger, RequestLog, requestId, type Logger } from '@tessera/logging';
import { verifiedTokenOf } from '@tessera/token-guard';
import type { DestinationStream } from 'pino';
import { ResourceServerModule } from './app.module.js';
import { StoppableFastifyAdapter } from './http/stopping.js';

/** A note is at most 200 + 10 000 characters: 128 KiB holds any valid one, even with every character \u-escaped (12 bytes for one outside the BMP). */
const BODY_LIMIT = 128 * 1024;

export function fastifyAdapter(): FastifyAdapter {
  // While the app stops, responses close their connections and new requests get the API's 503 (see stopping.ts).
  return new StoppableFastifyAdapter({
    bodyLimit: BODY_LIMIT,
    // A slow or stalled client never holds a request open for long.
    requestTimeout: 10_000,
    connectionTimeout: 10_000,
    trustProxy: false,
    // The caller's X-Request-Id when it is short and plain, else a fresh one; echoed in the response.
    genReqId: requestId,
  });
}

/** The resource server's logging: one pino logger for Nest (TokenGuard included) and the request lines. */
export interface ResourceServerLogging {
  logger: Logger;
  nest: PinoNestLogger;
  requestLog: RequestLog;
}

/** `destination`: where the lines go instead of stdout (tests read them). */
export function resourceServerLogging(config: ResourceServerConfig, destination?: DestinationStream): ResourceServerLogging {
  const logger = createLogger(config.logging, { app: 'resource-server', destination });
  // The client of the token TokenGuard accepted.
  const requestLog = new RequestLog(logger, { clientIdOf: (request) => verifiedTokenOf(request)?.clientId });
  return { logger, nest: new PinoNestLogger(logger), requestLog };
}

/** What main.ts and the tests both apply to a freshly created app. */
export function configureApp(app: NestFastifyApplication, logging: ResourceServerLogging): NestFastifyApplication {
  logging.requestLog.install(app.getHttpAdapter().getInstance());
  // Every answer is per caller (or about this instance): never cached by anyone in between.
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onSend', async (_request, reply) => {
      if (!reply.hasHeader('cache-control')) void reply.header('Cache-Control', 'no-store');
    });
  // A browser app on another origin calls the API with its bearer token (no cookies): any origin may.
  app.enableCors({
    delegator: (req, done) =>
      done(null, req.url.startsWith('/api/') ? { origin: '*', allowedHeaders: ['authorization', 'content-type'], exposedHeaders: ['www-authenticate'], maxAge: 600 } : { origin: false }),
  });
  app.enableShutdownHooks();
  return app;
}

export async function createResourceServer(config: ResourceServerConfig, logging = resourceServerLogging(config)): Promise<NestFastifyApplication> {
  const app = await NestFactory.create<NestFastifyApplication>(ResourceServerModule.forRoot(config), fastifyAdapter(), { logger: logging.nest });
  return configureApp(app, logging);
}
