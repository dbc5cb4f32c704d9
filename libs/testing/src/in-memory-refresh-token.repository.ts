import { issuedBeforeNow, RefreshTokenRepository, type RefreshToken, type RefreshTokenWithUser, type StoredRefreshToken } from '@tessera/oauth-core';
import type { InMemoryRevocationRepository } from './in-memory-revocation.repository.js';
import type { InMemoryUserRepository } from './in-memory-user.repository.js';

export class InMemoryRefreshTokenRepository extends RefreshTokenRepository {
  readonly tokens = new Map<string, StoredRefreshToken>();
  /** The users of the same store (set by InMemoryUserRepository), for `findForRefresh`. */
  users?: InMemoryUserRepository;

  constructor(private readonly revocations?: InMemoryRevocationRepository) {
    super();
  }

  async insert(tokenHash: string, token: RefreshToken): Promise<void> {
    if (this.tokens.has(tokenHash)) throw new Error('duplicate refresh token hash');
    this.tokens.set(tokenHash, { ...structuredClone(token), rotatedAt: null, revokedAt: null });
  }

  async findByHash(tokenHash: string): Promise<StoredRefreshToken | null> {
    const t = this.tokens.get(tokenHash);
    return t ? structuredClone(t) : null;
  }

  override async findForRefresh(tokenHash: string): Promise<RefreshTokenWithUser | null> {
    const t = this.tokens.get(tokenHash);
    if (!t) return null;
    const user = this.users?.users.get(t.subject);
    return { token: structuredClone(t), userActive: user !== undefined && !user.disabledAt };
  }

  async rotate(tokenHash: string, at: Date, nextHash: string, next: RefreshToken): Promise<boolean> {
    const t = this.tokens.get(tokenHash);
    if (!t || t.rotatedAt || t.revokedAt) return false;
    if (this.tokens.has(nextHash)) throw new Error('duplicate refresh token hash');
    t.rotatedAt = at;
    await this.insert(nextHash, next);
    return true;
  }

  async revokeGrant(clientId: string, grantId: string, at: Date): Promise<void> {
    for (const t of this.tokens.values()) if (t.clientId === clientId && t.familyId === grantId) t.revokedAt ??= at;
    await this.revocations?.revokeGrant(clientId, grantId, issuedBeforeNow(at));
  }

  /** Revokes every refresh token of a subject (a disabled user's), or only those at `clientId` when given. */
  /** Every refresh token of the client not yet revoked (the client was disabled, deleted or had its tokens revoked). */
  revokeClient(clientId: string, at: Date): void {
    for (const t of this.tokens.values()) if (t.clientId === clientId) t.revokedAt ??= at;
  }

  revokeSubject(subject: string, at: Date, clientId?: string): void {
    for (const t of this.tokens.values()) if (t.subject === subject && (clientId === undefined || t.clientId === clientId)) t.revokedAt ??= at;
  }
}
