import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { VerifiedAccessToken } from './verified-access-token.js';

/**
 * The tokens TokenGuard accepted, by request (Express or Fastify). Kept beside the request rather than
 * as a new property on it: adding one changes the shape of Fastify's request objects, which costs more,
 * over the rest of the request, than the guard's own work.
 */
export const verifiedTokens = new WeakMap<object, VerifiedAccessToken>();

/** The `VerifiedAccessToken` TokenGuard accepted for this request. */
export const VerifiedToken: () => ParameterDecorator = createParamDecorator(
  (_data: unknown, context: ExecutionContext): VerifiedAccessToken | undefined => verifiedTokens.get(context.switchToHttp().getRequest<object>()),
);
