import { SignJWT } from 'jose';
import { AccessTokenStrategy, Clock, OAuthError, RevocationRepository, type AccessTokenClaims } from '@tessera/oauth-core';
import { JwtAccessTokenVerifier } from './jwt-access-token.verifier.js';
import type { KeySet } from './key-set.js';

const JWS_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/**
 * RFC 9068 JWT access tokens. Issuing signs with the in-memory key and writes
 * nothing; revocation is recorded by `jti`, and the caller checks it.
 */
export class JwtAccessTokenStrategy extends AccessTokenStrategy {
  readonly format = 'jwt' as const;

  constructor(
    private readonly keySet: KeySet,
    private readonly revocations: RevocationRepository,
    private readonly clock: Clock,
    private readonly issuer: string,
  ) {
    super();
  }

  recognizes(token: string): boolean {
    return JWS_SHAPE.test(token);
  }

  async issue(claims: AccessTokenClaims): Promise<string> {
    const { kid, alg, key } = this.keySet.signingKey();
    return new SignJWT({
      iss: claims.iss,
      sub: claims.sub,
      aud: claims.aud.length === 1 ? claims.aud[0] : claims.aud,
      exp: claims.exp,
      iat: claims.iat,
      jti: claims.jti,
      client_id: claims.clientId,
      ...(claims.scope.length > 0 && { scope: claims.scope.join(' ') }),
      ...(claims.grantId && { gid: claims.grantId }),
    })
      .setProtectedHeader({ alg, kid, typ: 'at+jwt' })
      .sign(key);
  }

  /** Any audience is accepted: this serves introspection, which answers for every resource. */
  async verify(token: string): Promise<AccessTokenClaims | null> {
    if (!this.recognizes(token)) return null;
    // Built per call: the pinned algorithms follow the key set across rotations.
    const verifier = new JwtAccessTokenVerifier({
      issuer: this.issuer,
      algorithms: this.keySet.algorithms(),
      getKey: (kid, alg) => {
        const found = this.keySet.verificationKey(kid);
        return found?.alg === alg ? found.key : undefined;
      },
      retiredAt: (kid) => this.keySet.verificationKey(kid)?.retiredAt,
      clock: this.clock,
    });
    try {
      return await verifier.verify(token);
    } catch (error) {
      if (error instanceof OAuthError) return null;
      throw error;
    }
  }

  async revoke(_token: string, claims: AccessTokenClaims, at: Date): Promise<void> {
    await this.revocations.revokeToken(claims.jti, claims.clientId, claims.aud, new Date(claims.exp * 1000), at);
  }
}
