import { NestFactory } from '@nestjs/core';
import type { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import type { AuthServerConfig } from '@tessera/config';
import { createLogger, errorForLog, PinoAuditLog, scrubCredentials, PinoNestLogger, RequestLog, requestId, type Logger } from '@tessera/logging';
import { ENDPOINT_PATHS, parseForm } from '@tessera/oauth-core';
import type { ComposeOptions } from '@tessera/server';
import type { DestinationStream } from 'pino';
import { AppModule } from './app.module.js';
import type { FastifyReply } from 'fastify';
import { installCors } from './http/cors.js';
import { requestOfForm } from './http/form.decorator.js';
import { StoppableFastifyAdapter } from './http/stopping.js';
import { OPENAPI_PATHS } from './openapi/openapi.document.js';

export function fastifyAdapter(config: AuthServerConfig): FastifyAdapter {
  // Requests arriving while the app stops get an OAuth error, not Fastify's own 503 (see StoppableFastifyAdapter).
  return new StoppableFastifyAdapter({
    bodyLimit: config.http.bodyLimit,
    // A slow or stalled client never holds a request open for long.
    requestTimeout: 10_000,
    connectionTimeout: 10_000,
    // X-Forwarded-For only from the proxies the operator names (the sign-in throttle keys on the address).
    trustProxy: config.http.trustedProxies.length > 0 ? config.http.trustedProxies : false,
    // A path Fastify cannot decode (`/oauth2/register/%FF`) fails before Nest, so OAuthExceptionFilter never sees
    // it: answer as the filter answers a malformed request, not with Fastify's own body.
    frameworkErrors: (_error, _req, reply) => {
      void (reply as unknown as FastifyReply)
        .status(400)
        .header('Cache-Control', 'no-store')
        .header('Pragma', 'no-cache')
        .send({ error: 'invalid_request', error_description: 'malformed request' });
    },
    // The caller's X-Request-Id when it is short and plain, else a fresh one; echoed in the response.
    genReqId: requestId,
  });
}

/** The auth server's logging: one pino logger for Nest, the request lines and the audit events. */
export interface AuthServerLogging {
  logger: Logger;
  nest: PinoNestLogger;
  requestLog: RequestLog;
  /**
   * What composeAuthServer reports to: audit events, the client each request authenticated, and failures in the
   * background (rate-limit counts not shared, summarised by the limiter; signing keys not reloaded).
   */
  compose: Pick<ComposeOptions, 'audit' | 'onClientAuthenticated' | 'logger'>;
}

/** `destination`: where the lines go instead of stdout (tests read them). */
export function authServerLogging(config: AuthServerConfig, destination?: DestinationStream): AuthServerLogging {
  // Batched: the lines of up to 10 ms in one write (see BatchedDestination); configureApp makes a
  // signal stop the process through process.exit, which writes out what is pending.
  const logger = createLogger(config.logging, { app: 'auth-server', destination, batched: true });
  const requestLog = new RequestLog(logger);
  return {
    logger,
    nest: new PinoNestLogger(logger),
    requestLog,
    compose: {
      audit: new PinoAuditLog(logger),
      // The request whose form authenticated the client (see formOf), without AsyncLocalStorage.
      onClientAuthenticated: (clientId, params) => {
        const request = requestOfForm(params);
        if (request) requestLog.noteClientId(request, clientId);
      },
      logger: backgroundLogger(logger.child({ context: 'AuthServer' })),
    },
  };
}

/** What an adapter's translated error (an OAuthError temporarily_unavailable) was caused by: the driver's error says more. */
function underlying(error: unknown): unknown {
  const cause = error instanceof Error ? error.cause : undefined;
  // Duck-typed: a driver's error may come from another realm (Node's own, under a test runner's VM context).
  return typeof cause === 'object' && cause !== null && typeof (cause as Error).message === 'string' ? cause : error;
}

/**
 * ComposeOptions.logger on pino: a failure (with its error's first line, credentials scrubbed) is a warning, a
 * recovery (no error) is info. Whoever calls it summarises repeated failures (the rate limiter through
 * FailureSummary), so this writes every call.
 */
export function backgroundLogger(logger: Logger): NonNullable<ComposeOptions['logger']> {
  return (message, error) => {
    // Credentials scrubbed from the message too: a summary line quotes the latest error's message.
    if (error === undefined) logger.info(scrubCredentials(message));
    else logger.warn({ error: errorForLog(underlying(error)).split('\n')[0] }, scrubCredentials(message));
  };
}

/**
 * What a single-page app (a public client) calls from its own origin: the
 * metadata, the keys, the token and revocation endpoints. No cookie or other
 * ambient credential rides on them (the client authenticates in the request),
 * so any origin may call them (CORS, without credentials). So may the OpenAPI
 * document (public, for API tools elsewhere). Introspection, registration, the
 * revocation feed, the sign-in pages and /docs stay same-origin.
 */
const CROSS_ORIGIN_PATHS = new Set<string>([
  '/.well-known/oauth-authorization-server',
  ENDPOINT_PATHS.jwks,
  ENDPOINT_PATHS.token,
  ENDPOINT_PATHS.revocation,
  OPENAPI_PATHS.document,
]);
const CROSS_ORIGIN = { methods: ['GET', 'POST'], allowedHeaders: ['authorization', 'content-type'], exposedHeaders: ['www-authenticate'], maxAge: 600 };

/** What main.ts and the integration tests both apply to a freshly created app. */
export function configureApp(app: NestFastifyApplication, logging: AuthServerLogging): NestFastifyApplication {
  logging.requestLog.install(app.getHttpAdapter().getInstance());
  // Strict form parsing: repeated parameters stay visible, broken encodings are refused.
  app.useBodyParser('application/x-www-form-urlencoded', {}, (_req, body, done) => {
    try {
      done(null, parseForm(body));
    } catch (e) {
      done(e as Error, undefined);
    }
  });
  installCors(app.getHttpAdapter().getInstance(), CROSS_ORIGIN_PATHS, CROSS_ORIGIN);
  // process.exit once closed (instead of re-raising the signal): the 'exit' event writes out the log lines still
  // pending in the batched destination, so a normal stop loses none.
  app.enableShutdownHooks([], { useProcessExit: true });
  return app;
}

export async function createAuthServer(config: AuthServerConfig, logging = authServerLogging(config)): Promise<NestFastifyApplication> {
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config, logging.compose), fastifyAdapter(config), {
    logger: logging.nest,
  });
  return configureApp(app, logging);
}
