// RFC 7662: Token Introspection. Unknown, expired, revoked or garbage tokens are { "active": false }.
import { CLIENT_SECRET_METHODS, type ClientAuthenticator, type ClientAuthPolicy } from '../client-auth/client-authenticator.js';
import { OAuthError } from '../errors/oauth-error.js';
import type { FormParams } from '../forms/form-params.js';
import { INACTIVE, introspectionResponse } from '../forms/wire.js';
import type { AccessTokenInspector } from '../tokens/access-token.inspector.js';

export class IntrospectionEndpoint {
  /** A public client proves nothing by its client_id alone: it may not read tokens. */
  static readonly clientAuth: ClientAuthPolicy = { methods: CLIENT_SECRET_METHODS };

  constructor(
    private readonly authenticator: ClientAuthenticator,
    private readonly inspector: AccessTokenInspector,
  ) {}

  async handle(authorization: string | undefined, params: FormParams): Promise<Record<string, unknown>> {
    const token = params.require('token');
    params.get('token_type_hint');
    const client = await this.authenticator.authenticate(authorization, params, IntrospectionEndpoint.clientAuth);
    // A public client proves nothing by its client_id alone: it may not read other clients' tokens.
    if (client.secretHash === null) throw OAuthError.invalidClient('public clients may not introspect tokens');
    const claims = await this.inspector.activeClaims(token);
    return claims ? introspectionResponse(claims) : { ...INACTIVE };
  }
}
