// The wire (snake_case) forms of responses. Domain code never builds these shapes itself.
import type { Client } from '../domain/client.js';
import type { AccessTokenClaims } from '../domain/token.js';
import type { RevocationEntry } from '../ports/revocation.repository.js';
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

/**
 * A revocation-feed entry on the wire. `type: "jti"` revokes one token until
 * `exp`; `type: "issued_before"` revokes every token of `client_id` (narrowed
 * to `sub` and/or `grant_id` when present) whose `iat` is below `iat_before`;
 * `type: "kid"` revokes every JWT signed with the key `kid`.
 * Times are epoch seconds; `iat_before` is rounded up, so a token issued in
 * the same second as the revocation counts as revoked.
 */
export function revocationWire(e: RevocationEntry): Record<string, unknown> {
  const exp = Math.ceil(e.expiresAt.getTime() / 1000);
  if (e.kind === 'token') return { seq: e.seq, type: 'jti', jti: e.jti, client_id: e.clientId, exp };
  if (e.kind === 'key') return { seq: e.seq, type: 'kid', kid: e.kid, exp };
  return {
    seq: e.seq,
    type: 'issued_before',
    client_id: e.clientId,
    ...(e.subject ? { sub: e.subject } : {}),
    ...(e.grantId ? { grant_id: e.grantId } : {}),
    iat_before: Math.ceil(e.issuedBefore.getTime() / 1000),
    exp,
  };
}

/** The entry a wire object describes, or null for anything malformed or of an unknown type. */
export function parseRevocationWire(value: unknown): RevocationEntry | null {
  if (typeof value !== 'object' || value === null) return null;
  const v = value as Record<string, unknown>;
  const str = (x: unknown) => typeof x === 'string' && x.length > 0;
  const num = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
  if (typeof v.seq !== 'string' || !/^\d{1,19}$/.test(v.seq) || !num(v.exp)) return null;
  if (v.type === 'kid') {
    return str(v.kid) ? { kind: 'key', kid: v.kid as string, seq: v.seq, expiresAt: new Date(v.exp * 1000), revokedAt: new Date(0) } : null;
  }
  if (!str(v.client_id)) return null;
  const common = { seq: v.seq, clientId: v.client_id as string, expiresAt: new Date(v.exp * 1000), revokedAt: new Date(0) };
  if (v.type === 'jti' && str(v.jti)) return { kind: 'token', jti: v.jti as string, ...common };
  if (v.type === 'issued_before' && num(v.iat_before)) {
    return {
      kind: 'issued-before',
      subject: str(v.sub) ? (v.sub as string) : null,
      grantId: str(v.grant_id) ? (v.grant_id as string) : null,
      issuedBefore: new Date(v.iat_before * 1000),
      ...common,
    };
  }
  return null;
}
