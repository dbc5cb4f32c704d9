import { AccessTokenRepository, AccessTokenStrategy, Clock, RandomSource, type AccessTokenClaims, type StoredAccessToken } from '@tessera/oauth-core';
import { hashToken } from './token-hash.js';

const PREFIX = 'tsr_at_';
/** `tsr_at_` and 32 random bytes (256 bits) in base64url. */
const TOKEN_SHAPE = /^tsr_at_[A-Za-z0-9_-]{43}$/;

/** Opaque access tokens: random strings stored by their SHA-256, so a database leak yields no usable token. */
export class OpaqueAccessTokenStrategy extends AccessTokenStrategy {
  readonly format = 'opaque' as const;
  /** Present when the repository reads the token and the revocation log at once (`findByHashWithLog`). */
  declare readonly verifyActive?: (token: string) => Promise<AccessTokenClaims | null>;

  constructor(
    private readonly repo: AccessTokenRepository,
    private readonly random: RandomSource,
    private readonly clock: Clock,
  ) {
    super();
    const withLog = repo.findByHashWithLog?.bind(repo);
    if (withLog) {
      this.verifyActive = async (token) => {
        if (!this.recognizes(token)) return null;
        const stored = await withLog(hashToken(token));
        return stored && !stored.revokedByLog ? this.unexpiredClaims(stored) : null;
      };
    }
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
    return stored ? this.unexpiredClaims(stored) : null;
  }

  /** The claims of a stored token not revoked in its record and unexpired; else null. */
  private unexpiredClaims(stored: StoredAccessToken): AccessTokenClaims | null {
    return stored.revokedAt || stored.claims.exp <= this.clock.nowSeconds() ? null : stored.claims;
  }

  async revoke(token: string, _claims: AccessTokenClaims, at: Date): Promise<void> {
    await this.repo.revoke(hashToken(token), at);
  }
}
