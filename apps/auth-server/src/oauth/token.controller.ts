import { Controller, UseGuards, Headers, HttpCode, Inject, Post } from '@nestjs/common';
import { FormParams, TokenEndpoint, tokenResponse } from '@tessera/oauth-core';
import { Form } from '../http/form.decorator.js';
import { NoStore } from '../http/no-store.js';
import { OAuthOutcomes } from '../metrics/oauth-outcomes.js';
import { RateLimited, RateLimitGuard } from '../http/rate-limit.guard.js';

@Controller()
export class TokenController {
  constructor(
    private readonly endpoint: TokenEndpoint,
    @Inject(OAuthOutcomes) private readonly outcomes: OAuthOutcomes,
  ) {}

  @Post('oauth2/token')
  @RateLimited('token')
  @UseGuards(RateLimitGuard)
  @HttpCode(200)
  @NoStore()
  async token(@Headers('authorization') authorization: string | undefined, @Form() params: FormParams) {
    const response = tokenResponse(await this.endpoint.handle(authorization, params));
    this.outcomes.issued(params.get('grant_type'), response);
    return response;
  }
}
