import { Controller, UseGuards, Headers, HttpCode, Post } from '@nestjs/common';
import { FormParams, IntrospectionEndpoint } from '@tessera/oauth-core';
import { Form } from '../http/form.decorator.js';
import { NoStore } from '../http/no-store.js';
import { RateLimited, RateLimitGuard } from '../http/rate-limit.guard.js';

@Controller()
export class IntrospectionController {
  constructor(private readonly endpoint: IntrospectionEndpoint) {}

  @Post('oauth2/introspect')
  @RateLimited('introspection')
  @UseGuards(RateLimitGuard)
  @HttpCode(200)
  @NoStore()
  introspect(@Headers('authorization') authorization: string | undefined, @Form() params: FormParams) {
    return this.endpoint.handle(authorization, params);
  }
}
