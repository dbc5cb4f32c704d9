// RFC 7591: Dynamic Client Registration, protected by an initial access token (§3). The response also carries
// the RFC 7592 registration access token and client configuration endpoint (client-configuration.endpoint.ts).
import { timingSafeEqual, createHash } from 'node:crypto';
import { parseClientMetadata, type ClientMetadataPolicy } from '../clients/client-metadata.js';
import type { ClientRegistrar } from '../clients/client-registrar.js';
import { OAuthError } from '../errors/oauth-error.js';
import { clientConfigurationResponse } from '../forms/wire.js';
import { bearerToken } from './bearer-token.js';
import { clientConfigurationUri } from './client-configuration.endpoint.js';

export class RegistrationEndpoint {
  private readonly expected: Buffer;

  constructor(
    private readonly registrar: ClientRegistrar,
    private readonly policy: ClientMetadataPolicy,
    initialAccessToken: string,
    private readonly issuer: string,
  ) {
    this.expected = digest(initialAccessToken);
  }

  async handle(authorization: string | undefined, body: unknown): Promise<Record<string, unknown>> {
    const token = bearerToken(authorization, 'a valid initial access token is required');
    // Compare digests so the comparison is constant-time whatever the lengths.
    if (!timingSafeEqual(digest(token), this.expected)) {
      throw OAuthError.invalidToken('a valid initial access token is required');
    }
    const metadata = parseClientMetadata(body, this.policy);
    const { client, clientSecret, registrationAccessToken } = await this.registrar.register(metadata, { registrationAccessToken: true });
    return clientConfigurationResponse(client, clientSecret, registrationAccessToken!, clientConfigurationUri(this.issuer, client.clientId));
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
