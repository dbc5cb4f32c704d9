// While the app stops, requests that arrive on connections still open get an OAuth error
// (temporarily_unavailable, 503, Retry-After) from the one error writer, not Fastify's own 503.
import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { OAuthError } from '@tessera/oauth-core';
import type { IncomingMessage } from 'node:http';
import type { FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify';

/** Requests that began after the app started to stop. */
const ARRIVED_WHILE_STOPPING = new WeakSet<IncomingMessage>();

/**
 * Nest's Fastify adapter, noting each request that begins once `app.close()` has started (Nest calls
 * `beforeClose()` first, before the shutdown hooks close keys, feeds and the database). Fastify's
 * `return503OnClosing` is off, so such requests still reach Nest, where `StoppingGuard` refuses
 * them through the exception filters (JSON for the OAuth endpoints, a page for the pages).
 * Requests already under way when the app began to stop are served: the database closes last.
 */
export class StoppableFastifyAdapter extends FastifyAdapter {
  private stopping = false;

  constructor(options: FastifyServerOptions) {
    super({ ...options, return503OnClosing: false });
    this.getInstance().addHook('onRequest', (request, _reply, done) => {
      if (this.stopping) ARRIVED_WHILE_STOPPING.add(request.raw);
      done();
    });
  }

  override beforeClose(): void {
    this.stopping = true;
    super.beforeClose();
  }
}

/** Refuses, as temporarily_unavailable, every request that began after the app started to stop. */
@Injectable()
export class StoppingGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const http = context.switchToHttp();
    if (!ARRIVED_WHILE_STOPPING.has(http.getRequest<FastifyRequest>().raw)) return true;
    // The client should retry on a fresh connection (to another instance, or to this one restarted).
    void http.getResponse<FastifyReply>().header('Connection', 'close');
    throw OAuthError.temporarilyUnavailable(new Error('the server is stopping'));
  }
}
