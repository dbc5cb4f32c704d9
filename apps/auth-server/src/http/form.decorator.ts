import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { FormParams, OAuthError } from '@tessera/oauth-core';
import type { FastifyRequest } from 'fastify';

/** The request's form parameters; anything but application/x-www-form-urlencoded is an invalid_request. */
export const Form = createParamDecorator((_: unknown, ctx: ExecutionContext): FormParams => {
  const req = ctx.switchToHttp().getRequest<FastifyRequest>();
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') {
    throw OAuthError.invalidRequest('the request body must be application/x-www-form-urlencoded');
  }
  return FormParams.from(req.body);
});
