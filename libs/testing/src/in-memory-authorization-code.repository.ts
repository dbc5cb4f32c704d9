import { AuthorizationCodeRepository, type AuthorizationCode, type RedeemedAuthorizationCode } from '@tessera/oauth-core';

export class InMemoryAuthorizationCodeRepository extends AuthorizationCodeRepository {
  readonly codes = new Map<string, { code: AuthorizationCode; redeemedAt: Date | null }>();

  async insert(codeHash: string, code: AuthorizationCode): Promise<void> {
    if (this.codes.has(codeHash)) throw new Error('duplicate code hash');
    this.codes.set(codeHash, { code: structuredClone(code), redeemedAt: null });
  }

  /** Forgets the client's codes not yet redeemed (its tokens were revoked: disabled, deleted, or its secret rotated). */
  dropUnredeemed(clientId: string): void {
    for (const [hash, entry] of this.codes) if (entry.code.clientId === clientId && entry.redeemedAt === null) this.codes.delete(hash);
  }

  async redeem(codeHash: string, clientId: string, at: Date): Promise<RedeemedAuthorizationCode | null> {
    const entry = this.codes.get(codeHash);
    if (!entry || entry.code.clientId !== clientId) return null;
    const previouslyRedeemedAt = entry.redeemedAt;
    entry.redeemedAt ??= at;
    return { code: structuredClone(entry.code), previouslyRedeemedAt };
  }
}
