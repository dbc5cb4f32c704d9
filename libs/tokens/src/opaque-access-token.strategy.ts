import { AccessTokenRepository, AccessTokenStrategy, Clock, RandomSource, type AccessTokenClaims } from '@tessera/oauth-core';
import { hashToken } from './token-hash.js';

const PREFIX = 'tsr_at_';
/** `tsr_at_` and 32 random bytes (256 bits) in base64url. */
const TOKEN_SHAPE = /^tsr_at_[A-Za-z0-9_-]{43}$/;

/** Opaque access tokens: random strings stored by their SHA-256, so a database leak yields no usable token. */
export class OpaqueAccessTokenStrategy extends AccessTokenStrategy {
  readonly format = 'opaque' as const;

  constructor(
    private readonly repo: AccessTokenRepository,
    private readonly random: RandomSource,
    private readonly clock: Clock,
  ) {
    super();
  }

  recognizes(token: string): boolean {
    return TOKEN_SHAPE.test(token);
  }

  async issue(claims: AccessTokenClaims): Promise<string> {
    const token = PREFIX + this.random.token(32);
    await this.repo.insert(hashToken(token), { ...claims, format: 'opaque' });
    return token;
  }

  async verify(token: string): Promise<AccessTokenClaims | null> {
    if (!this.recognizes(token)) return null;
    const stored = await this.repo.findByHash(hashToken(token));
    if (!stored || stored.revokedAt || stored.claims.exp <= this.clock.nowSeconds()) return null;
    return stored.claims;
  }

  async revoke(token: string, _claims: AccessTokenClaims, at: Date): Promise<void> {
    await this.repo.revoke(hashToken(token), at);
  }
}
