import type { RefreshToken } from '../domain/refresh-token.js';
import type { Clock } from '../ports/clock.port.js';
import type { RandomSource } from '../ports/random.port.js';
import { RefreshTokenRepository } from '../ports/refresh-token.repository.js';
import { hashToken } from './token-hash.js';

export const REFRESH_TOKEN_PREFIX = 'tsr_rt_';
/** `tsr_rt_` and 32 random bytes in base64url. */
export const REFRESH_TOKEN_SHAPE = /^tsr_rt_[A-Za-z0-9_-]{43}$/;

export type RefreshTokenBinding = Pick<RefreshToken, 'clientId' | 'subject' | 'scope' | 'audience' | 'grantId'>;

/** Opaque refresh tokens, stored by hash; the first of a grant starts its family, rotation continues it. */
export class RefreshTokenIssuer {
  constructor(
    private readonly repo: RefreshTokenRepository,
    private readonly random: RandomSource,
    private readonly clock: Clock,
    /** Lifetime of each refresh token, seconds. */
    private readonly ttl: number,
    /** Absolute lifetime of a family, seconds from its first token: rotation never extends a token past it. */
    private readonly maxLifetime: number,
  ) {}

  /** A new token starting the family of `binding.grantId`. */
  async issue(binding: RefreshTokenBinding): Promise<string> {
    const now = this.clock.now();
    const { token, hash, record } = this.next({ ...binding, familyId: binding.grantId, familyIssuedAt: now }, now);
    await this.repo.insert(hash, record);
    return token;
  }

  /** Replaces the token of `hash` by a new one of the same family; null when it was already rotated or revoked. */
  async rotate(hash: string, current: RefreshToken): Promise<string | null> {
    const now = this.clock.now();
    const next = this.next(current, now);
    return (await this.repo.rotate(hash, now, next.hash, next.record)) ? next.token : null;
  }

  private next(base: RefreshTokenBinding & Pick<RefreshToken, 'familyId' | 'familyIssuedAt'>, issuedAt: Date) {
    const token = REFRESH_TOKEN_PREFIX + this.random.token(32);
    const expiresAt = Math.min(issuedAt.getTime() + this.ttl * 1000, base.familyIssuedAt.getTime() + this.maxLifetime * 1000);
    const record: RefreshToken = {
      familyId: base.familyId,
      clientId: base.clientId,
      subject: base.subject,
      scope: [...base.scope],
      audience: [...base.audience],
      grantId: base.grantId,
      issuedAt,
      familyIssuedAt: base.familyIssuedAt,
      expiresAt: new Date(expiresAt),
    };
    return { token, hash: hashToken(token), record };
  }
}
