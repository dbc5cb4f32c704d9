import { RevocationRepository, revocationMatches, type AccessTokenClaims, type RevocationEntry } from '@tessera/oauth-core';

export class InMemoryRevocationRepository extends RevocationRepository {
  readonly records: RevocationEntry[] = [];
  private seq = 0n;

  async revokeToken(jti: string, clientId: string, audience: string[], expiresAt: Date, at: Date): Promise<void> {
    if (this.records.some((r) => r.kind === 'token' && r.jti === jti)) return;
    this.records.push({ seq: String(++this.seq), kind: 'token', jti, clientId, audience: [...audience], expiresAt, revokedAt: at });
  }
  /** Every token of the client (or of its subject or grant) issued before `issuedBefore`; kept a day unless `expiresAt` says otherwise. */
  markIssuedBefore(mark: { clientId: string; issuedBefore: Date; subject?: string | null; grantId?: string | null; expiresAt?: Date }): void {
    this.records.push({
      seq: String(++this.seq),
      kind: 'issued-before',
      subject: null,
      grantId: null,
      expiresAt: new Date(mark.issuedBefore.getTime() + 86_400_000),
      revokedAt: mark.issuedBefore,
      ...mark,
    });
  }
  revokeKey(kid: string, expiresAt: Date, at: Date): void {
    this.records.push({ seq: String(++this.seq), kind: 'key', kid, expiresAt, revokedAt: at });
  }

  /** The clients a subject-wide revocation marks (set by InMemoryClientRepository). */
  clientIds: () => Iterable<string> = () => [];

  async revokeGrant(clientId: string, grantId: string, issuedBefore: Date): Promise<void> {
    this.markIssuedBefore({ clientId, grantId, issuedBefore });
  }

  async revokeSubject(subject: string, issuedBefore: Date): Promise<void> {
    for (const clientId of [...this.clientIds()].sort()) this.markIssuedBefore({ clientId, subject, issuedBefore });
  }

  async isRevoked(claims: AccessTokenClaims): Promise<boolean> {
    return this.records.some((r) => revocationMatches(r, claims));
  }
  async listAfter(after: string, limit: number): Promise<RevocationEntry[]> {
    return this.records.filter((r) => BigInt(r.seq) > BigInt(after)).slice(0, limit).map((r) => structuredClone(r));
  }
  /** The highest seq left, as PostgreSQL's max(seq) reads it: a purge at the end of the log lowers it. */
  async latestSeq(): Promise<string> {
    return this.records.at(-1)?.seq ?? '0';
  }
  async purgeExpired(now: Date): Promise<number> {
    const before = this.records.length;
    const kept = this.records.filter((r) => r.expiresAt > now);
    this.records.splice(0, this.records.length, ...kept);
    return before - kept.length;
  }
}
