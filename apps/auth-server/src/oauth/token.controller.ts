import { Controller, UseGuards, Headers, HttpCode, Post } from '@nestjs/common';
import { FormParams, TokenEndpoint, tokenResponse } from '@tessera/oauth-core';
import { Form } from '../http/form.decorator.js';
import { NoStore } from '../http/no-store.js';
import { RateLimited, RateLimitGuard } from '../http/rate-limit.guard.js';

@Controller()
export class TokenController {
  constructor(private readonly endpoint: TokenEndpoint) {}

  @Post('oauth2/token')
  @RateLimited('token')
  @UseGuards(RateLimitGuard)
  @HttpCode(200)
  @NoStore()
  async token(@Headers('authorization') authorization: string | undefined, @Form() params: FormParams) {
    return tokenResponse(await this.endpoint.handle(authorization, params));
  }
}
