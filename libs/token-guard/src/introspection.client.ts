// RFC 7662: Token Introspection, as a resource server calls it, and our checks of an active answer.
import { OAuthError } from '@tessera/oauth-core';
import type { DiscoveryClient } from './discovery.client.js';
import { fetchJson } from './fetch-json.js';
import type { IntrospectionOutcome } from './introspection.cache.js';
import type { IntrospectionCredentials } from './token-guard.options.js';

export interface IntrospectionExpectations {
  issuer: string;
  audience: string;
  clockToleranceSeconds: number;
}

export class IntrospectionClient {
  constructor(
    private readonly discovery: DiscoveryClient,
    /** Called at each introspection: credentials may arrive or change after start-up. */
    private readonly credentials: () => IntrospectionCredentials | undefined,
    private readonly expectations: IntrospectionExpectations,
    private readonly now: () => number = Date.now,
  ) {}

  async introspect(token: string): Promise<IntrospectionOutcome> {
    const { introspectionEndpoint } = await this.discovery.get();
    if (!introspectionEndpoint) {
      throw OAuthError.temporarilyUnavailable(new Error('the authorization server metadata has no introspection_endpoint'));
    }
    const credentials = this.credentials();
    if (!credentials) throw OAuthError.temporarilyUnavailable(new Error('introspection credentials are not available yet'));
    const body = await fetchJson(introspectionEndpoint, {
      method: 'POST',
      headers: { authorization: basicAuthorization(credentials), 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({ token, token_type_hint: 'access_token' }).toString(),
    });
    return checkIntrospectionResponse(body, this.expectations, this.now());
  }
}

/** RFC 6749 §2.3.1: id and secret are form-encoded before Basic encoding. */
function basicAuthorization({ clientId, clientSecret }: IntrospectionCredentials): string {
  const form = (s: string) => encodeURIComponent(s).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${form(clientId)}:${form(clientSecret)}`).toString('base64')}`;
}

/**
 * An introspection answer judged from this resource's side: active, and also
 * issued by our issuer, for our audience, an access token, and unexpired.
 */
export function checkIntrospectionResponse(body: unknown, expected: IntrospectionExpectations, nowMs: number): IntrospectionOutcome {
  if (typeof body !== 'object' || body === null || typeof (body as { active?: unknown }).active !== 'boolean') {
    throw OAuthError.temporarilyUnavailable(new Error('the introspection answer has no active member'));
  }
  const r = body as Record<string, unknown>;
  const inactive = (reason: string): IntrospectionOutcome => ({ active: false, reason });
  if (r.active !== true) return inactive('token is not active');
  if (r.iss !== expected.issuer) return inactive('unexpected issuer');
  const audience = typeof r.aud === 'string' ? [r.aud] : r.aud;
  if (!Array.isArray(audience) || !audience.every((a) => typeof a === 'string')) return inactive('unexpected audience');
  if (!audience.includes(expected.audience)) return inactive('unexpected audience');
  if (typeof r.token_type === 'string' && r.token_type.toLowerCase() !== 'bearer') return inactive('not an access token');
  const { sub, client_id, jti, exp, iat, nbf, scope, grant_id } = r;
  if (
    typeof sub !== 'string' ||
    typeof client_id !== 'string' ||
    typeof jti !== 'string' ||
    typeof exp !== 'number' ||
    typeof iat !== 'number' ||
    (scope !== undefined && typeof scope !== 'string') ||
    (grant_id !== undefined && typeof grant_id !== 'string')
  ) {
    return inactive('token lacks required claims');
  }
  const now = nowMs / 1000;
  if (exp <= now - expected.clockToleranceSeconds) return inactive('token expired');
  if (typeof nbf === 'number' && nbf > now + expected.clockToleranceSeconds) return inactive('token not yet valid');
  return {
    active: true,
    record: {
      token: {
        subject: sub,
        clientId: client_id,
        scopes: typeof scope === 'string' ? scope.split(' ').filter(Boolean) : [],
        audience,
        issuer: expected.issuer,
        expiresAt: new Date(exp * 1000),
        jti,
        format: 'opaque',
      },
      issuedAt: iat,
      // Tessera's extension: revocation-feed marks for a grant match the cached answer too.
      grantId: grant_id ?? null,
    },
  };
}
