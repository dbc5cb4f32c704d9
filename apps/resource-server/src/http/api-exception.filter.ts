import { ArgumentsHost, Catch, HttpException, Inject, Logger, type ExceptionFilter } from '@nestjs/common';
import { errorForLog } from '@tessera/logging';
import { DatabaseFailureLog, isDatabaseOutage } from '@tessera/persistence';
import type { FastifyReply } from 'fastify';
import { ApiError } from './api-error.js';
import { SERVER_STOPPING } from './stopping.js';

export interface ErrorBody {
  error: string;
  error_description: string;
}

/**
 * The only translator from errors to HTTP in the resource server. Every error
 * is JSON `{ "error", "error_description" }`: the API's own (`ApiError`),
 * TokenGuard's RFC 6750 ones (kept as they are, with their `WWW-Authenticate`),
 * client errors of Nest and Fastify (unknown route, bad JSON, body too large),
 * a database outage (503). Anything else is a 500 whose cause is logged, never sent.
 */
@Catch()
export class ApiExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('Api');

  constructor(@Inject(DatabaseFailureLog) private readonly databaseFailures: DatabaseFailureLog) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const { status, body } = toResponse(exception);
    void reply.header('Cache-Control', 'no-store');
    if (status === 503) {
      void reply.header('Retry-After', '5');
      // TokenGuard logs its own (the auth server unreachable); this is the database.
      if (!(exception instanceof HttpException)) {
        const cause = exception instanceof ApiError ? exception.cause : exception;
        // Summarised: while PostgreSQL is down every request fails.
        if (isDatabaseOutage(cause)) this.databaseFailures.failure(cause);
        else if (cause !== SERVER_STOPPING) this.logger.warn(`temporarily_unavailable: ${cause instanceof Error ? cause.message : String(cause)}`);
      }
    } else if (status >= 500) {
      this.logger.error(`server_error: ${errorForLog(exception)}`);
    }
    void reply.status(status).send(body);
  }
}

function toResponse(exception: unknown): { status: number; body: ErrorBody } {
  if (exception instanceof ApiError) {
    return { status: exception.status, body: { error: exception.code, error_description: exception.description } };
  }
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const response = exception.getResponse();
    // TokenGuard's RFC 6750 errors already have their body (and set their WWW-Authenticate header).
    if (isErrorBody(response)) return { status, body: { error: response.error, error_description: response.error_description } };
    if (status >= 400 && status < 500) return clientError(status, exception);
    return serverError();
  }
  const statusCode = (exception as { statusCode?: unknown } | null)?.statusCode;
  if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) return clientError(statusCode, exception);
  if (isDatabaseOutage(exception)) {
    return { status: 503, body: { error: 'temporarily_unavailable', error_description: 'the service is temporarily unavailable; try again shortly' } };
  }
  return serverError();
}

function isErrorBody(value: unknown): value is ErrorBody {
  const v = value as Partial<ErrorBody> | null;
  return typeof v === 'object' && v !== null && typeof v.error === 'string' && typeof v.error_description === 'string';
}

function serverError(): { status: number; body: ErrorBody } {
  return { status: 500, body: { error: 'server_error', error_description: 'an unexpected error occurred' } };
}

/** Nest's and Fastify's client errors (unknown route, unparsable or oversized body, …). */
function clientError(status: number, exception: unknown): { status: number; body: ErrorBody } {
  if (status === 404) return { status, body: { error: 'not_found', error_description: 'no such endpoint' } };
  // TokenGuard's answer to a request without a token (RFC 6750 §3.1: its challenge carries no error code).
  if (status === 401) return { status, body: { error: 'unauthorized', error_description: 'an access token is required' } };
  // Nest's Fastify adapter wraps Fastify's own errors (FST_ERR_CTP_*) in an HttpException, as its cause.
  const fastifyError = exception instanceof HttpException && exception.cause ? exception.cause : exception;
  const code = (fastifyError as { code?: unknown } | null)?.code;
  const description =
    status === 405
      ? 'method not allowed'
      : status === 413
        ? 'the request body is too large'
        : status === 415
          ? 'unsupported content type: send application/json'
          : (fastifyError as Error | null)?.name === 'SyntaxError' || (typeof code === 'string' && code.startsWith('FST_ERR_CTP'))
            ? 'the request body is not valid JSON'
            : 'malformed request';
  return { status, body: { error: 'invalid_request', error_description: description } };
}
