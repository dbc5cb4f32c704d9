import { Controller, UseGuards, Headers, HttpCode, Post } from '@nestjs/common';
import { RegistrationEndpoint } from '@tessera/oauth-core';
import { JsonBody } from '../http/json-body.decorator.js';
import { NoStore } from '../http/no-store.js';
import { RateLimited, RateLimitGuard } from '../http/rate-limit.guard.js';

@Controller()
export class RegistrationController {
  constructor(private readonly endpoint: RegistrationEndpoint) {}

  @Post('oauth2/register')
  @RateLimited('registration')
  @UseGuards(RateLimitGuard)
  @HttpCode(201)
  @NoStore()
  register(@Headers('authorization') authorization: string | undefined, @JsonBody() body: unknown) {
    return this.endpoint.handle(authorization, body);
  }
}
