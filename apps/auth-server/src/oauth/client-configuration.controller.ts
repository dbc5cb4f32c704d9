import { Controller, Delete, Get, Headers, HttpCode, Param, Put, Req, UseGuards } from '@nestjs/common';
import { noteClientId } from '@tessera/logging';
import { ClientConfigurationEndpoint } from '@tessera/oauth-core';
import type { FastifyRequest } from 'fastify';
import { JsonBody } from '../http/json-body.decorator.js';
import { NoStore } from '../http/no-store.js';
import { RateLimited, RateLimitGuard } from '../http/rate-limit.guard.js';

/** RFC 7592 client configuration endpoint: the registration_client_uri a registration returns. Its requests count against the registration limit per address. */
@Controller()
@UseGuards(RateLimitGuard)
export class ClientConfigurationController {
  constructor(private readonly endpoint: ClientConfigurationEndpoint) {}

  @Get('oauth2/register/:clientId')
  @RateLimited('registration')
  @NoStore()
  read(@Headers('authorization') authorization: string | undefined, @Param('clientId') clientId: string, @Req() request: FastifyRequest) {
    return this.endpoint.read(authorization, clientId, (id) => noteClientId(request, id));
  }

  @Put('oauth2/register/:clientId')
  @RateLimited('registration')
  @NoStore()
  update(@Headers('authorization') authorization: string | undefined, @Param('clientId') clientId: string, @JsonBody() body: unknown, @Req() request: FastifyRequest) {
    return this.endpoint.update(authorization, clientId, body, (id) => noteClientId(request, id));
  }

  @Delete('oauth2/register/:clientId')
  @RateLimited('registration')
  @HttpCode(204)
  @NoStore()
  async delete(@Headers('authorization') authorization: string | undefined, @Param('clientId') clientId: string, @Req() request: FastifyRequest): Promise<void> {
    await this.endpoint.delete(authorization, clientId, (id) => noteClientId(request, id));
  }
}
