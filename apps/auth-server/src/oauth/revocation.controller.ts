import { Controller, UseGuards, Headers, HttpCode, Inject, Post } from '@nestjs/common';
import { FormParams, RevocationEndpoint } from '@tessera/oauth-core';
import { Form } from '../http/form.decorator.js';
import { NoStore } from '../http/no-store.js';
import { OAuthOutcomes } from '../metrics/oauth-outcomes.js';
import { RateLimited, RateLimitGuard } from '../http/rate-limit.guard.js';

@Controller()
export class RevocationController {
  constructor(
    private readonly endpoint: RevocationEndpoint,
    @Inject(OAuthOutcomes) private readonly outcomes: OAuthOutcomes,
  ) {}

  @Post('oauth2/revoke')
  @RateLimited('revocation')
  @UseGuards(RateLimitGuard)
  @HttpCode(200)
  @NoStore()
  async revoke(@Headers('authorization') authorization: string | undefined, @Form() params: FormParams): Promise<void> {
    await this.endpoint.handle(authorization, params);
    this.outcomes.revoked();
  }
}
