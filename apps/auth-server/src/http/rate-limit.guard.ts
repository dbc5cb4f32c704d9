// The per-address rate limits of the token, introspection, revocation and registration endpoints. The per-client
// limits are counted where the client authenticates (composeAuthServer), since only then is the client known.
import { CanActivate, ExecutionContext, Inject, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { RateLimitedEndpoint } from '@tessera/oauth-core';
import type { AuthServer } from '@tessera/server';
import type { FastifyRequest } from 'fastify';
import { AUTH_SERVER } from '../oauth/oauth.tokens.js';

const ENDPOINT = Symbol('RATE_LIMITED_ENDPOINT');

/** Marks a handler as one of the rate-limited endpoint groups (the guard counts it per address). */
export const RateLimited = (endpoint: RateLimitedEndpoint) => SetMetadata(ENDPOINT, endpoint);

/**
 * Counts every request of a rate-limited endpoint against its address, before anything else is done with it.
 * The address is Fastify's `request.ip`: the peer's, or X-Forwarded-For's as far as TESSERA_TRUST_PROXY allows.
 */
@Injectable()
export class RateLimitGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(AUTH_SERVER) private readonly server: AuthServer,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const limits = this.server.rateLimits;
    if (!limits) return true; // limits off: no metadata lookup on each request
    const endpoint = this.reflector.get<RateLimitedEndpoint | undefined>(ENDPOINT, context.getHandler());
    if (endpoint) limits.checkAddress(endpoint, context.switchToHttp().getRequest<FastifyRequest>().ip);
    return true;
  }
}
