import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';

/** An incoming X-Request-Id is kept only when it is short and plain (no spaces, quotes or control characters to forge lines with). */
const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;
export const REQUEST_ID_HEADER = 'x-request-id';

/** Fastify's `genReqId`: the caller's X-Request-Id when it is safe, else a fresh one. */
export function requestId(request: IncomingMessage): string {
  const incoming = request.headers[REQUEST_ID_HEADER];
  return typeof incoming === 'string' && SAFE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
}

interface RequestNotes {
  clientId?: string;
}

export interface RequestLogOptions {
  /** The client a request was made for, when the app knows it from the request itself (TokenGuard's verified token). */
  clientIdOf?: (request: FastifyRequest) => string | undefined;
}

const NOTES = Symbol('tessera.requestNotes');

/**
 * One line per request, written when the response is done: `req_id`, `method`, the route pattern (never the URL,
 * whose query may carry a code or a state), `status`, `ms` and `client_id` when known. The request id is echoed
 * in the X-Request-Id response header. No header, body or query is read or logged.
 */
export class RequestLog {
  /**
   * The logger without its redaction: a request line's keys are fixed (above) and none is a redacted path, so
   * redaction never changes it, and skipping it saves more than half of the line's cost (pino's redaction
   * copies and walks every logged object).
   */
  private readonly logger: Logger;

  constructor(
    logger: Logger,
    private readonly options: RequestLogOptions = {},
  ) {
    this.logger = logger.child({}, { redact: [] });
  }

  install(fastify: FastifyInstance): void {
    fastify.addHook('onRequest', (request, reply, done) => {
      void reply.header(REQUEST_ID_HEADER, request.id);
      done();
    });
    fastify.addHook('onResponse', (request, reply, done) => {
      this.write(request, reply);
      done();
    });
  }

  /**
   * Records the authenticated client of `request` (from the server's client authentication), on the request
   * itself: no AsyncLocalStorage, whose promise hooks would cost on every promise of every request.
   */
  noteClientId(request: FastifyRequest, clientId: string): void {
    noteClientId(request, clientId);
  }

  private write(request: FastifyRequest, reply: FastifyReply): void {
    if (!this.logger.isLevelEnabled('info')) return;
    const clientId = (request as unknown as Record<symbol, RequestNotes | undefined>)[NOTES]?.clientId ?? this.options.clientIdOf?.(request);
    const line: Record<string, unknown> = {
      req_id: request.id,
      method: request.method,
      route: request.routeOptions.url ?? '(no route)',
      status: reply.statusCode,
      ms: Math.round(reply.elapsedTime * 10) / 10,
    };
    if (clientId !== undefined) line.client_id = clientId;
    this.logger.info(line, 'request');
  }
}

/** The client of `request`, for its request line (set where the client proved itself). */
export function noteClientId(request: FastifyRequest, clientId: string): void {
  const notes = request as unknown as Record<symbol, RequestNotes | undefined>;
  const store = notes[NOTES];
  if (store) store.clientId = clientId;
  else notes[NOTES] = { clientId };
}
