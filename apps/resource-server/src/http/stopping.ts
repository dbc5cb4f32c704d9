// While the app stops (SIGTERM: Nest's shutdown), requests are answered and their connections closed, so that no
// client waits on a keep-alive connection the stopping server no longer reads. Requests that begin once stopping
// has started get the API's own 503 temporarily_unavailable (through ApiExceptionFilter), not Fastify's.
import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { IncomingMessage } from 'node:http';
import type { FastifyRequest, FastifyServerOptions } from 'fastify';
import { ApiError } from './api-error.js';

/** Requests that began after the app started to stop. */
const ARRIVED_WHILE_STOPPING = new WeakSet<IncomingMessage>();

/** The cause of a refusal while stopping: expected, so ApiExceptionFilter does not log it. */
export const SERVER_STOPPING = new Error('the server is stopping');

/**
 * Nest's Fastify adapter, noting each request that begins once `app.close()` has started (Nest calls
 * `beforeClose()` before the shutdown hooks, and closes the HTTP server after them; the database closes last).
 * From then on every response carries `Connection: close`: a keep-alive connection ends with the response under
 * way instead of staying open, unread, until its keep-alive timeout (72 s) while the server waits for it.
 */
export class StoppableFastifyAdapter extends FastifyAdapter {
  private stopping = false;

  constructor(options: FastifyServerOptions) {
    super({ ...options, return503OnClosing: false });
    const fastify = this.getInstance();
    fastify.addHook('onRequest', (request, _reply, done) => {
      if (this.stopping) ARRIVED_WHILE_STOPPING.add(request.raw);
      done();
    });
    fastify.addHook('onSend', (_request, reply, payload, done) => {
      if (this.stopping) void reply.header('Connection', 'close');
      done(null, payload);
    });
  }

  override beforeClose(): void {
    this.stopping = true;
    super.beforeClose();
  }
}

/** Refuses, as temporarily_unavailable (503, Retry-After), every request that began after the app started to stop. */
@Injectable()
export class StoppingGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    if (!ARRIVED_WHILE_STOPPING.has(context.switchToHttp().getRequest<FastifyRequest>().raw)) return true;
    throw ApiError.temporarilyUnavailable(SERVER_STOPPING);
  }
}
