import { Controller, UseGuards, Headers, HttpCode, Inject, Post } from '@nestjs/common';
import { FormParams, IntrospectionEndpoint } from '@tessera/oauth-core';
import { Form } from '../http/form.decorator.js';
import { NoStore } from '../http/no-store.js';
import { OAuthOutcomes } from '../metrics/oauth-outcomes.js';
import { RateLimited, RateLimitGuard } from '../http/rate-limit.guard.js';

@Controller()
export class IntrospectionController {
  constructor(
    private readonly endpoint: IntrospectionEndpoint,
    @Inject(OAuthOutcomes) private readonly outcomes: OAuthOutcomes,
  ) {}

  @Post('oauth2/introspect')
  @RateLimited('introspection')
  @UseGuards(RateLimitGuard)
  @HttpCode(200)
  @NoStore()
  async introspect(@Headers('authorization') authorization: string | undefined, @Form() params: FormParams) {
    const response = await this.endpoint.handle(authorization, params);
    this.outcomes.introspected(response);
    return response;
  }
}
