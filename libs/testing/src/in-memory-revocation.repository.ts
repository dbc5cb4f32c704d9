import { RevocationRepository, type AccessTokenClaims, type Revocation } from '@tessera/oauth-core';

export class InMemoryRevocationRepository extends RevocationRepository {
  readonly records: Revocation[] = [];

  async revokeToken(jti: string, clientId: string, expiresAt: Date, at: Date): Promise<void> {
    if (this.records.some((r) => r.kind === 'token' && r.jti === jti)) return;
    this.records.push({ kind: 'token', jti, clientId, expiresAt, revokedAt: at });
  }
  markIssuedBefore(clientId: string, issuedBefore: Date, subject: string | null = null, grantId: string | null = null): void {
    this.records.push({
      kind: 'issued-before',
      clientId,
      subject,
      grantId,
      issuedBefore,
      expiresAt: new Date(issuedBefore.getTime() + 366 * 86400_000),
      revokedAt: issuedBefore,
    });
  }
  async isRevoked(claims: AccessTokenClaims): Promise<boolean> {
    const issuedAt = claims.iat * 1000;
    return this.records.some((r) =>
      r.kind === 'token'
        ? r.jti === claims.jti
        : r.clientId === claims.clientId &&
          (r.subject == null || r.subject === claims.sub) &&
          (r.grantId == null || r.grantId === claims.grantId) &&
          issuedAt < r.issuedBefore.getTime(),
    );
  }
}
