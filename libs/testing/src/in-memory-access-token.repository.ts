import { AccessTokenRepository, type AccessTokenClaims, type StoredAccessToken } from '@tessera/oauth-core';
import type { InMemoryRevocationRepository } from './in-memory-revocation.repository.js';

export class InMemoryAccessTokenRepository extends AccessTokenRepository {
  readonly tokens = new Map<string, StoredAccessToken>();

  constructor(private readonly revocations?: InMemoryRevocationRepository) {
    super();
  }

  async insert(tokenHash: string, claims: AccessTokenClaims): Promise<void> {
    if (this.tokens.has(tokenHash)) throw new Error('duplicate token hash');
    this.tokens.set(tokenHash, { claims: structuredClone({ ...claims, grantId: claims.grantId ?? null }), revokedAt: null });
  }
  async findByHash(tokenHash: string): Promise<StoredAccessToken | null> {
    const t = this.tokens.get(tokenHash);
    return t ? structuredClone(t) : null;
  }
  /** With its revocation log: the token, and whether the log revokes it (no log: nothing does). */
  override async findByHashWithLog(tokenHash: string): Promise<(StoredAccessToken & { revokedByLog: boolean }) | null> {
    const stored = await this.findByHash(tokenHash);
    if (!stored) return null;
    return { ...stored, revokedByLog: (await this.revocations?.isRevoked(stored.claims)) ?? false };
  }
  async revoke(tokenHash: string, at: Date): Promise<boolean> {
    const t = this.tokens.get(tokenHash);
    if (!t || t.revokedAt) return false;
    t.revokedAt = at;
    await this.revocations?.revokeToken(t.claims.jti, t.claims.clientId, t.claims.aud, new Date(t.claims.exp * 1000), at);
    return true;
  }
}
