// RFC 7591: Dynamic Client Registration, protected by an initial access token (§3).
import { timingSafeEqual, createHash } from 'node:crypto';
import { parseClientMetadata, type ClientMetadataPolicy } from '../clients/client-metadata.js';
import type { ClientRegistrar } from '../clients/client-registrar.js';
import { OAuthError } from '../errors/oauth-error.js';
import { clientResponse } from '../forms/wire.js';

export class RegistrationEndpoint {
  private readonly expected: Buffer;

  constructor(
    private readonly registrar: ClientRegistrar,
    private readonly policy: ClientMetadataPolicy,
    initialAccessToken: string,
  ) {
    this.expected = digest(initialAccessToken);
  }

  async handle(authorization: string | undefined, body: unknown): Promise<Record<string, unknown>> {
    const match = /^Bearer ([\x21-\x7E]+)$/.exec(authorization?.trim() ?? '');
    // Compare digests so the comparison is constant-time whatever the lengths.
    if (!match || !timingSafeEqual(digest(match[1]), this.expected)) {
      throw OAuthError.invalidToken('a valid initial access token is required');
    }
    const metadata = parseClientMetadata(body, this.policy);
    const { client, clientSecret } = await this.registrar.register(metadata);
    return clientResponse(client, clientSecret);
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
