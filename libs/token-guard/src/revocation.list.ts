import { feedPseudonym, feedRevocationMatches, type FeedRevocation, type PseudonymKind } from '@tessera/oauth-core';
import type { TokenRecord } from './verified-access-token.js';

type Mark = Extract<FeedRevocation, { kind: 'issued-before' }>;

/**
 * The revocations a resource server keeps from the feed: revoked jtis, signing keys, and issued-before
 * marks, each until no token it matches can still be unexpired. Marks name their client, subject and grant
 * by pseudonyms (HMAC-SHA256 under this resource server's key, from the feed): a token is matched by
 * computing the same from its own claims. Memory stays bounded by what was revoked within the longest
 * token lifetime.
 */
export class RevocationList {
  private readonly jtis = new Map<string, number>();
  /** Signing keys whose every token is revoked. */
  private readonly kids = new Map<string, number>();
  /** By the pseudonym of their client. */
  private readonly marks = new Map<string, Mark[]>();
  private lastPurge = 0;
  private key?: string;
  /** The pseudonym of each client seen, under `key`: a request whose client has marks pays a map lookup, not an HMAC. */
  private readonly clientPseudonyms = new Map<string, string>();

  constructor(private readonly now: () => number = Date.now) {}

  /** The key of the feed's pseudonyms. Another key than before empties the list (its marks no longer match). */
  usePseudonymKey(key: string): void {
    if (this.key !== undefined && this.key !== key) this.clear();
    if (this.key !== key) this.clientPseudonyms.clear();
    this.key = key;
  }

  clear(): void {
    this.jtis.clear();
    this.kids.clear();
    this.marks.clear();
  }

  add(entry: FeedRevocation): void {
    const now = this.now();
    if (entry.expiresAt.getTime() <= now) return;
    if (entry.kind === 'token') this.jtis.set(entry.jti, entry.expiresAt.getTime());
    else if (entry.kind === 'key') this.kids.set(entry.kid, entry.expiresAt.getTime());
    else this.marks.set(entry.client, [...(this.marks.get(entry.client) ?? []), entry]);
    if (now - this.lastPurge > 60_000) this.purge();
  }

  /** True when a kept revocation makes this token invalid. */
  revokes(record: TokenRecord): boolean {
    if (this.jtis.has(record.token.jti)) return true;
    if (record.kid && this.kids.has(record.kid)) return true;
    if (this.marks.size === 0 || this.key === undefined) return false;
    const marks = this.marks.get(this.clientPseudonym(record.token.clientId, this.key));
    return !!marks && marks.some((mark) => feedRevocationMatches(mark, feedToken(record), this.pseudonyms()));
  }

  /** True when one of `entries` revokes the token (to drop cached results as new entries arrive). */
  matches(entries: FeedRevocation[], record: TokenRecord): boolean {
    if (entries.length === 0) return false;
    const pseudonym = this.pseudonyms();
    const token = feedToken(record);
    return entries.some((e) => (e.kind !== 'issued-before' || this.key !== undefined) && feedRevocationMatches(e, token, pseudonym));
  }

  private clientPseudonym(clientId: string, key: string): string {
    let p = this.clientPseudonyms.get(clientId);
    if (p === undefined) {
      // Clients are few; bounded all the same.
      if (this.clientPseudonyms.size >= 10_000) this.clientPseudonyms.clear();
      this.clientPseudonyms.set(clientId, (p = feedPseudonym(key, 'client', clientId)));
    }
    return p;
  }

  /** Pseudonyms under the current key, each computed once per call site. */
  private pseudonyms(): (kind: PseudonymKind, value: string) => string {
    const key = this.key;
    const computed = new Map<string, string>();
    return (kind, value) => {
      const id = `${kind}:${value}`;
      let p = computed.get(id);
      if (p === undefined) computed.set(id, (p = key === undefined ? '' : feedPseudonym(key, kind, value)));
      return p;
    };
  }

  /** Drops what can no longer match an unexpired token. */
  purge(): void {
    const now = (this.lastPurge = this.now());
    for (const expiring of [this.jtis, this.kids]) for (const [id, exp] of expiring) if (exp <= now) expiring.delete(id);
    for (const [client, marks] of this.marks) {
      const live = marks.filter((m) => m.expiresAt.getTime() > now);
      if (live.length > 0) this.marks.set(client, live);
      else this.marks.delete(client);
    }
  }

  get size(): number {
    let n = this.jtis.size + this.kids.size;
    for (const marks of this.marks.values()) n += marks.length;
    return n;
  }
}

function feedToken(record: TokenRecord) {
  return { jti: record.token.jti, clientId: record.token.clientId, sub: record.token.subject, grantId: record.grantId, iat: record.issuedAt, kid: record.kid };
}
