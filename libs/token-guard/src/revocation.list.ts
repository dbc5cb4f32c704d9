import { revocationMatches, type Revocation } from '@tessera/oauth-core';
import type { TokenRecord } from './verified-access-token.js';

/**
 * The revocations a resource server keeps from the feed: revoked jtis and
 * issued-before marks, each until no token it matches can still be unexpired.
 * Memory stays bounded by what was revoked within the longest token lifetime.
 */
export class RevocationList {
  private readonly jtis = new Map<string, number>();
  /** Signing keys whose every token is revoked. */
  private readonly kids = new Map<string, number>();
  private readonly marks = new Map<string, Extract<Revocation, { kind: 'issued-before' }>[]>();
  private lastPurge = 0;

  constructor(private readonly now: () => number = Date.now) {}

  add(entry: Revocation): void {
    const now = this.now();
    if (entry.expiresAt.getTime() <= now) return;
    if (entry.kind === 'token') this.jtis.set(entry.jti, entry.expiresAt.getTime());
    else if (entry.kind === 'key') this.kids.set(entry.kid, entry.expiresAt.getTime());
    else this.marks.set(entry.clientId, [...(this.marks.get(entry.clientId) ?? []), entry]);
    if (now - this.lastPurge > 60_000) this.purge();
  }

  /** True when a kept revocation makes this token invalid. */
  revokes(record: TokenRecord): boolean {
    if (this.jtis.has(record.token.jti)) return true;
    if (record.kid && this.kids.has(record.kid)) return true;
    const marks = this.marks.get(record.token.clientId);
    if (!marks) return false;
    const claims = { jti: record.token.jti, clientId: record.token.clientId, sub: record.token.subject, grantId: record.grantId, iat: record.issuedAt, kid: record.kid };
    return marks.some((mark) => revocationMatches(mark, claims));
  }

  /** Drops what can no longer match an unexpired token. */
  purge(): void {
    const now = (this.lastPurge = this.now());
    for (const expiring of [this.jtis, this.kids]) for (const [id, exp] of expiring) if (exp <= now) expiring.delete(id);
    for (const [clientId, marks] of this.marks) {
      const live = marks.filter((m) => m.expiresAt.getTime() > now);
      if (live.length > 0) this.marks.set(clientId, live);
      else this.marks.delete(clientId);
    }
  }

  get size(): number {
    let n = this.jtis.size + this.kids.size;
    for (const marks of this.marks.values()) n += marks.length;
    return n;
  }
}
