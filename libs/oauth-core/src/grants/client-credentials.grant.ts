// RFC 6749 §4.4: Client Credentials Grant (with RFC 8707 resource indicators).
import type { Client } from '../domain/client.js';
import type { FormParams } from '../forms/form-params.js';
import { resolveAudience } from '../scopes/resource.js';
import { grantedScopes, parseScope } from '../scopes/scope.js';
import type { AccessTokenIssuer } from '../tokens/access-token.issuer.js';
import type { Grant, TokenResult } from './grant.js';

export class ClientCredentialsGrant implements Grant {
  readonly grantType = 'client_credentials';
  readonly parameters = ['scope', 'resource'] as const;
  readonly allowsPublicClients = false;

  constructor(
    private readonly issuer: AccessTokenIssuer,
    private readonly issuerUrl: string,
  ) {}

  async handle(params: FormParams, client: Client): Promise<TokenResult> {
    const scope = grantedScopes(parseScope(params.get('scope')), client.scopes);
    const audience = resolveAudience(params.getAll('resource'), client, this.issuerUrl);
    // §4.4.3: no refresh token; the client can always authenticate again.
    const issued = await this.issuer.issue({ client, subject: client.clientId, scope, audience });
    return { accessToken: issued.token, tokenType: 'Bearer', expiresIn: issued.expiresIn, scope };
  }
}
