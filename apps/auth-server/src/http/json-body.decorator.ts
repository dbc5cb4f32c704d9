import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { OAuthError } from '@tessera/oauth-core';
import type { FastifyRequest } from 'fastify';

/**
 * The request's JSON body. RFC 7591 §3.1 sends client metadata as application/json; anything else
 * (a form, text/plain, no body) is an invalid_request: the request is malformed, before any
 * metadata can be judged (invalid_client_metadata is for a metadata value, §3.2.2).
 */
export const JsonBody = createParamDecorator((_: unknown, ctx: ExecutionContext): unknown => {
  const req = ctx.switchToHttp().getRequest<FastifyRequest>();
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (type !== 'application/json') throw OAuthError.invalidRequest('the request body must be application/json');
  return req.body;
});
