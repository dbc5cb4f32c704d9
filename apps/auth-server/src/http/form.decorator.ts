import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { FormParams, OAuthError } from '@tessera/oauth-core';
import type { FastifyRequest } from 'fastify';
import { markHandlerReached } from '../metrics/oauth-outcomes.js';

/** The request's form parameters; anything but application/x-www-form-urlencoded is an invalid_request. */
export const Form = createParamDecorator((_: unknown, ctx: ExecutionContext): FormParams => {
  const req = ctx.switchToHttp().getRequest<FastifyRequest>();
  markHandlerReached(req); // the outcome of what follows is counted (OAuthOutcomes)
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') {
    throw OAuthError.invalidRequest('the request body must be application/x-www-form-urlencoded');
  }
  return FormParams.from(req.body);
});
