// The wire (snake_case) forms of responses. Domain code never builds these shapes itself.
import type { Client } from '../domain/client.js';
import type { AccessTokenClaims } from '../domain/token.js';
import type { TokenResult } from '../grants/grant.js';
import { formatScope } from '../scopes/scope.js';

export function tokenResponse(result: TokenResult): Record<string, unknown> {
  return {
    access_token: result.accessToken,
    token_type: result.tokenType,
    expires_in: result.expiresIn,
    ...(result.scope.length > 0 ? { scope: formatScope(result.scope) } : {}),
    ...(result.refreshToken ? { refresh_token: result.refreshToken } : {}),
  };
}

/** RFC 7662 §2.2 response for an active token. */
export function introspectionResponse(claims: AccessTokenClaims): Record<string, unknown> {
  return {
    active: true,
    ...(claims.scope.length > 0 ? { scope: formatScope(claims.scope) } : {}),
    client_id: claims.clientId,
    token_type: 'Bearer',
    exp: claims.exp,
    iat: claims.iat,
    sub: claims.sub,
    aud: claims.aud.length === 1 ? claims.aud[0] : claims.aud,
    iss: claims.iss,
    jti: claims.jti,
  };
}

export const INACTIVE = Object.freeze({ active: false });

/** RFC 7591 §3.2.1 client information response. */
export function clientResponse(client: Client, clientSecret: string | null): Record<string, unknown> {
  return {
    client_id: client.clientId,
    ...(clientSecret !== null ? { client_secret: clientSecret, client_secret_expires_at: 0 } : {}),
    client_id_issued_at: Math.floor(client.createdAt.getTime() / 1000),
    client_name: client.clientName ?? undefined,
    grant_types: client.grantTypes,
    token_endpoint_auth_method: client.tokenEndpointAuthMethod,
    scope: formatScope(client.scopes) || undefined,
    redirect_uris: client.redirectUris.length > 0 ? client.redirectUris : undefined,
    access_token_format: client.accessTokenFormat,
    access_token_lifetime: client.accessTokenTtl ?? undefined,
    resources: client.resources.length > 0 ? client.resources : undefined,
  };
}
