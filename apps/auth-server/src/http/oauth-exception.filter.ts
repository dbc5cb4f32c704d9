import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { errorForLog } from '@tessera/logging';
import { OAuthError } from '@tessera/oauth-core';
import { isDatabaseOutage, type DatabaseFailureLog } from '@tessera/persistence';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { OAuthOutcomes } from '../metrics/oauth-outcomes.js';

/**
 * The only translator from errors to HTTP. OAuth errors get the RFC 6749 §5.2
 * body; other client errors (unknown route, body too large, unsupported media
 * type) keep their status with an `invalid_request` body; anything else is a
 * `server_error` whose cause is logged, never sent.
 */
@Catch()
export class OAuthExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('OAuth');

  constructor(
    /** Where a database outage is told, summarised (a line per request would bury everything else). */
    private readonly databaseFailures?: DatabaseFailureLog,
    private readonly realm = 'tessera',
    /** Where failures are counted (protocol outcomes, database outages). */
    private readonly outcomes?: OAuthOutcomes,
  ) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    this.outcomes?.failed(host.switchToHttp().getRequest<FastifyRequest>(), exception);
    const error = this.toOAuthError(exception);
    const status = error.status === 400 && clientStatus(exception) ? clientStatus(exception)! : error.status;
    reply.header('Cache-Control', 'no-store').header('Pragma', 'no-cache');
    if (error.code === 'invalid_client') {
      reply.header('WWW-Authenticate', `${error.authScheme ?? 'Basic'} realm="${this.realm}"`);
    } else if (error.code === 'invalid_token' && error.noCredentials) {
      reply.header('WWW-Authenticate', `Bearer realm="${this.realm}"`);
    } else if (error.code === 'invalid_token') {
      reply.header('WWW-Authenticate', `Bearer realm="${this.realm}", error="invalid_token", error_description="${error.description.replace(/["\\]/g, '')}"`);
    } else if (error.code === 'temporarily_unavailable') {
      reply.header('Retry-After', '5');
    } else if (error.retryAfterSeconds !== undefined) {
      reply.header('Retry-After', String(error.retryAfterSeconds));
    }
    const cause = error.cause ?? exception;
    if (error.code === 'server_error') {
      this.logger.error(`server_error: ${errorForLog(cause)}`);
    } else if (error.code === 'temporarily_unavailable' && this.databaseFailures && isDatabaseOutage(cause)) {
      this.databaseFailures.failure(cause);
    } else if (error.code === 'temporarily_unavailable') {
      this.logger.warn(`temporarily_unavailable: ${cause instanceof Error ? cause.message : String(cause)}`);
    }
    void reply.status(status).send({ error: error.code, error_description: error.description });
  }

  private toOAuthError(exception: unknown): OAuthError {
    if (exception instanceof OAuthError) return exception;
    const status = clientStatus(exception);
    if (status !== undefined) return OAuthError.invalidRequest(clientErrorDescription(status, exception), exception);
    return OAuthError.serverError(exception);
  }
}

/** The 4xx status of a Nest or Fastify client error (unknown route, bad body, …), if it is one. */
export function clientStatus(exception: unknown): number | undefined {
  const status =
    exception instanceof HttpException ? exception.getStatus() : (exception as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' && status >= 400 && status < 500 ? status : undefined;
}

function clientErrorDescription(status: number, exception: unknown): string {
  switch (status) {
    case 404:
      return 'no such endpoint';
    case 405:
      return 'method not allowed';
    case 413:
      return 'the request body is too large';
    case 415:
      return 'unsupported content type';
    default:
      // Nest's Fastify adapter wraps Fastify's own errors; the original is the cause.
      return exception instanceof SyntaxError ||
        [exception, (exception as { cause?: unknown })?.cause].some((e) => (e as { code?: string } | null)?.code?.startsWith('FST_ERR_CTP'))
        ? 'the request body could not be parsed'
        : 'malformed request';
  }
}
