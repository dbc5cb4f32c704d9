import { Controller, Delete, Get, Headers, HttpCode, Param, Put } from '@nestjs/common';
import { ClientConfigurationEndpoint } from '@tessera/oauth-core';
import { JsonBody } from '../http/json-body.decorator.js';
import { NoStore } from '../http/no-store.js';

/** RFC 7592 client configuration endpoint: the registration_client_uri a registration returns. */
@Controller()
export class ClientConfigurationController {
  constructor(private readonly endpoint: ClientConfigurationEndpoint) {}

  @Get('oauth2/register/:clientId')
  @NoStore()
  read(@Headers('authorization') authorization: string | undefined, @Param('clientId') clientId: string) {
    return this.endpoint.read(authorization, clientId);
  }

  @Put('oauth2/register/:clientId')
  @NoStore()
  update(@Headers('authorization') authorization: string | undefined, @Param('clientId') clientId: string, @JsonBody() body: unknown) {
    return this.endpoint.update(authorization, clientId, body);
  }

  @Delete('oauth2/register/:clientId')
  @HttpCode(204)
  @NoStore()
  async delete(@Headers('authorization') authorization: string | undefined, @Param('clientId') clientId: string): Promise<void> {
    await this.endpoint.delete(authorization, clientId);
  }
}
