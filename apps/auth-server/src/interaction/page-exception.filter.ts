import { ArgumentsHost, Catch, ExceptionFilter, Inject, Logger } from '@nestjs/common';
import { errorForLog } from '@tessera/logging';
import { OAuthError } from '@tessera/oauth-core';
import { DatabaseFailureLog, isDatabaseOutage } from '@tessera/persistence';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { OAuthOutcomes } from '../metrics/oauth-outcomes.js';
import { clientStatus } from '../http/oauth-exception.filter.js';
import { sendPage } from './browser.js';
import { errorPage } from './pages.js';

/** The pages' errors, as a page: a person reads them, not a client. Causes are logged, never shown. */
@Catch()
export class PageExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('Pages');

  constructor(
    @Inject(DatabaseFailureLog) private readonly databaseFailures: DatabaseFailureLog,
    @Inject(OAuthOutcomes) private readonly outcomes: OAuthOutcomes,
  ) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    this.outcomes.failed(host.switchToHttp().getRequest<FastifyRequest>(), exception); // database outages, by route
    if (exception instanceof OAuthError && exception.code === 'temporarily_unavailable') {
      if (isDatabaseOutage(exception.cause)) this.databaseFailures.failure(exception.cause);
      else this.logger.warn(`temporarily_unavailable: ${exception.cause instanceof Error ? exception.cause.message : String(exception.cause)}`);
      return sendPage(reply, 503, errorPage('Temporarily unavailable', 'Sign-in is unavailable for a moment. Please try again shortly.'), { 'retry-after': '5' });
    }
    if (exception instanceof OAuthError && exception.status < 500) {
      return sendPage(reply, 400, errorPage("This request can't be completed", BAD_REQUEST, exception.description));
    }
    const status = clientStatus(exception);
    if (status !== undefined) return sendPage(reply, status, errorPage("This request can't be completed", BAD_REQUEST));
    const cause = exception instanceof OAuthError ? (exception.cause ?? exception) : exception;
    this.logger.error(`server_error: ${errorForLog(cause)}`);
    sendPage(reply, 500, errorPage('Something went wrong', 'Tessera could not complete this request. Please try again.'));
  }
}

const BAD_REQUEST = 'The application that sent you here made a request that cannot be accepted. Go back to it and try again.';
