// RFC 9068 §4: a JWT access token checked locally against the auth server's JWKS,
// by the same jose-based verifier the auth server uses (libs/tokens): typ, kid and a
// pinned asymmetric alg first, then the signature, iss, aud, exp and nbf; an `iat` in the future
// (beyond the clock tolerance) or after the key's retirement (the JWKS's `retired_at`) is refused.
import { SystemClock } from '@tessera/oauth-core';
import { JwtAccessTokenVerifier } from '@tessera/tokens';
import type { JwksKeyStore } from './jwks.key-store.js';
import type { TokenRecord } from './verified-access-token.js';

/** The algorithms a resource server verifies: never `none`, never HS*, whatever a token or a document says. */
export const VERIFIABLE_ALGORITHMS = ['ES256', 'ES384', 'ES512', 'EdDSA', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'];

export interface JwtExpectations {
  issuer: string;
  audience: string;
  clockToleranceSeconds: number;
}

export class JwtAccessTokenChecker {
  private readonly verifier: JwtAccessTokenVerifier;

  /** A token's `alg` must be one of VERIFIABLE_ALGORITHMS and the one its key (by `kid`) is for. */
  constructor(expected: JwtExpectations, keys: JwksKeyStore, clock = new SystemClock()) {
    this.verifier = new JwtAccessTokenVerifier({
      issuer: expected.issuer,
      audience: expected.audience,
      algorithms: VERIFIABLE_ALGORITHMS,
      getKey: (kid, alg) => keys.get(kid, alg),
      retiredAt: (kid) => keys.retiredAt(kid),
      clock,
      clockToleranceSeconds: expected.clockToleranceSeconds,
    });
  }

  /** The token's record; throws `invalid_token`, or `temporarily_unavailable` when its key cannot be fetched. */
  async check(token: string): Promise<TokenRecord> {
    const claims = await this.verifier.verify(token);
    return {
      token: {
        subject: claims.sub,
        clientId: claims.clientId,
        scopes: claims.scope,
        audience: claims.aud,
        issuer: claims.iss,
        expiresAt: new Date(claims.exp * 1000),
        jti: claims.jti,
        format: 'jwt',
      },
      issuedAt: claims.iat,
      grantId: claims.grantId ?? null,
      kid: claims.kid,
    };
  }
}
