import { Controller, UseGuards, Headers, HttpCode, Post } from '@nestjs/common';
import { FormParams, RevocationEndpoint } from '@tessera/oauth-core';
import { Form } from '../http/form.decorator.js';
import { NoStore } from '../http/no-store.js';
import { RateLimited, RateLimitGuard } from '../http/rate-limit.guard.js';

@Controller()
export class RevocationController {
  constructor(private readonly endpoint: RevocationEndpoint) {}

  @Post('oauth2/revoke')
  @RateLimited('revocation')
  @UseGuards(RateLimitGuard)
  @HttpCode(200)
  @NoStore()
  async revoke(@Headers('authorization') authorization: string | undefined, @Form() params: FormParams): Promise<void> {
    await this.endpoint.handle(authorization, params);
  }
}
