// The wire (snake_case) forms of responses. Domain code never builds these shapes itself.
import type { Client } from '../domain/client.js';
import type { AccessTokenClaims } from '../domain/token.js';
import type { RefreshToken } from '../domain/refresh-token.js';
import type { FeedRevocation } from '../revocations/feed-view.js';
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
    // Tessera's extension (RFC 7662 §2.2 allows them): the grant the token descends from, so that a
    // resource server caching this answer can match the revocation feed's marks for that grant.
    ...(claims.grantId ? { grant_id: claims.grantId } : {}),
  };
}

/** RFC 7662 §2.2 response for an active refresh token (shown only to its own client). */
export function refreshTokenIntrospectionResponse(token: RefreshToken): Record<string, unknown> {
  return {
    active: true,
    ...(token.scope.length > 0 ? { scope: formatScope(token.scope) } : {}),
    client_id: token.clientId,
    exp: Math.floor(token.expiresAt.getTime() / 1000),
    iat: Math.floor(token.issuedAt.getTime() / 1000),
    sub: token.subject,
    ...(token.audience.length > 0 ? { aud: token.audience.length === 1 ? token.audience[0] : token.audience } : {}),
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
    resource_server_for: client.resourceServerFor.length > 0 ? client.resourceServerFor : undefined,
  };
}

/**
 * RFC 7592 §3 client information response: RFC 7591's, with the registration access token and the client
 * configuration endpoint's URL.
 */
export function clientConfigurationResponse(
  client: Client,
  clientSecret: string | null,
  registrationAccessToken: string,
  registrationClientUri: string,
): Record<string, unknown> {
  return { ...clientResponse(client, clientSecret), registration_access_token: registrationAccessToken, registration_client_uri: registrationClientUri };
}

/**
 * A revocation-feed entry on the wire, as one resource server sees it (see `feedViewOf`). `type: "jti"`
 * revokes one token until `exp`; `type: "issued_before"` revokes every token of the client whose pseudonym
 * is `client` (narrowed to the subject `sub` and/or the grant `grant` when present, pseudonyms too) whose
 * `iat` is below `iat_before`; `type: "kid"` revokes every JWT signed with the key `kid`.
 * Times are epoch seconds; `iat_before` is rounded up, so a token issued in
 * the same second as the revocation counts as revoked.
 */
export function revocationWire(e: FeedRevocation): Record<string, unknown> {
  const exp = Math.ceil(e.expiresAt.getTime() / 1000);
  if (e.kind === 'token') return { seq: e.seq, type: 'jti', jti: e.jti, exp };
  if (e.kind === 'key') return { seq: e.seq, type: 'kid', kid: e.kid, exp };
  return {
    seq: e.seq,
    type: 'issued_before',
    client: e.client,
    ...(e.subject ? { sub: e.subject } : {}),
    ...(e.grant ? { grant: e.grant } : {}),
    iat_before: Math.ceil(e.issuedBefore.getTime() / 1000),
    exp,
  };
}

/** The entry a wire object describes, or null for anything malformed or of an unknown type. */
export function parseRevocationWire(value: unknown): FeedRevocation | null {
  if (typeof value !== 'object' || value === null) return null;
  const v = value as Record<string, unknown>;
  const str = (x: unknown): x is string => typeof x === 'string' && x.length > 0;
  const num = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
  if (typeof v.seq !== 'string' || !/^\d{1,19}$/.test(v.seq) || !num(v.exp)) return null;
  const common = { seq: v.seq, expiresAt: new Date(v.exp * 1000) };
  if (v.type === 'kid') return str(v.kid) ? { kind: 'key', kid: v.kid, ...common } : null;
  if (v.type === 'jti') return str(v.jti) ? { kind: 'token', jti: v.jti, ...common } : null;
  if (v.type === 'issued_before' && str(v.client) && num(v.iat_before)) {
    return {
      kind: 'issued-before',
      client: v.client,
      subject: str(v.sub) ? v.sub : null,
      grant: str(v.grant) ? v.grant : null,
      issuedBefore: new Date(v.iat_before * 1000),
      ...common,
    };
  }
  return null;
}
