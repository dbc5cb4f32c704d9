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
  return formOf(req, req.body);
});

/** Each request's form, by the form: whoever is told of a `FormParams` (client authentication) finds its request. */
const REQUESTS = new WeakMap<FormParams, FastifyRequest>();

/** The request a form was read from, if it was read by `@Form()` or `formOf`. */
export function requestOfForm(params: FormParams): FastifyRequest | undefined {
  return REQUESTS.get(params);
}

/** `body` (by default none) as the form of `request`. */
export function formOf(request: FastifyRequest, body: unknown = {}): FormParams {
  const params = FormParams.from(body);
  REQUESTS.set(params, request);
  return params;
}
