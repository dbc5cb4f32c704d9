import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { VerifiedAccessToken } from './verified-access-token.js';

/** Where TokenGuard leaves the verified token on the request (Express or Fastify). */
export const VERIFIED_TOKEN = Symbol('tessera:verified-access-token');

/** The `VerifiedAccessToken` TokenGuard accepted for this request. */
export const VerifiedToken: () => ParameterDecorator = createParamDecorator(
  (_data: unknown, context: ExecutionContext): VerifiedAccessToken | undefined =>
    context.switchToHttp().getRequest<{ [VERIFIED_TOKEN]?: VerifiedAccessToken }>()[VERIFIED_TOKEN],
);

/** The `VerifiedAccessToken` TokenGuard accepted for `request` (Express or Fastify), if it did: for request logs and the like. */
export function verifiedTokenOf(request: object): VerifiedAccessToken | undefined {
  return (request as { [VERIFIED_TOKEN]?: VerifiedAccessToken })[VERIFIED_TOKEN];
}
