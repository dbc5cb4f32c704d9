// RFC 6749 §3.2: the token endpoint. Authenticates the client, then hands the request to its grant.
import { CLIENT_SECRET_METHODS, type ClientAuthenticator, type ClientAuthPolicy } from '../client-auth/client-authenticator.js';
import { OAuthError } from '../errors/oauth-error.js';
import type { FormParams } from '../forms/form-params.js';
import type { Grant, TokenResult } from '../grants/grant.js';

export class TokenEndpoint {
  private readonly grants: Map<string, Grant>;
  /** Public clients (`none`) authenticate here only when a registered grant allows them. */
  readonly clientAuth: ClientAuthPolicy;

  constructor(
    grants: Grant[],
    private readonly authenticator: ClientAuthenticator,
  ) {
    this.grants = new Map(grants.map((g) => [g.grantType, g]));
    this.clientAuth = { methods: [...CLIENT_SECRET_METHODS, ...(grants.some((g) => g.allowsPublicClients) ? (['none'] as const) : [])] };
  }

  grantTypes(): string[] {
    return [...this.grants.keys()];
  }

  async handle(authorization: string | undefined, params: FormParams): Promise<TokenResult> {
    const grantType = params.require('grant_type');
    const grant = this.grants.get(grantType);
    for (const name of grant?.parameters ?? []) if (name !== 'resource') params.get(name); // refuse repeats early
    const client = await this.authenticator.authenticate(authorization, params, this.clientAuth);
    if (!grant) throw OAuthError.unsupportedGrantType(grantType);
    if (!client.grantTypes.includes(grantType) || (!grant.allowsPublicClients && client.secretHash === null)) {
      throw OAuthError.unauthorizedClient(`this client may not use the ${grantType} grant`);
    }
    return grant.handle(params, client);
  }
}
