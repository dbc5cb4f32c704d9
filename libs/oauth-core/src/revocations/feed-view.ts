// What a resource server may see of the revocation log, and how it matches it.
//
// The log holds every client's id, every user's subject and grant ids. A resource server needs none of
// them in clear: it needs to refuse the tokens of its own audience. So the feed gives each one
// - `jti` entries only for tokens whose audience includes a resource it serves (entries recorded before
//   audiences were have none, and go to every resource server: a revoked token's jti says nothing more);
// - `kid` entries as they are (key ids are public in the JWKS);
// - issued-before marks with the client, subject and grant replaced by HMAC-SHA256 pseudonyms under a key
//   of its own (`Client.revocationFeedKey`), which it gets on the feed. From a token it holds it computes
//   the same pseudonyms and matches; it cannot turn one back into an id, and two resource servers'
//   pseudonyms of the same id differ, so they cannot correlate theirs.
import { createHmac } from 'node:crypto';
import type { Client } from '../domain/client.js';
import type { RevocationEntry } from '../ports/revocation.repository.js';

/** A revocation as a resource server receives it: `client`, `subject` and `grant` are pseudonyms. */
export type FeedRevocation =
  | { seq: string; kind: 'token'; jti: string; expiresAt: Date }
  | { seq: string; kind: 'key'; kid: string; expiresAt: Date }
  | { seq: string; kind: 'issued-before'; client: string; subject: string | null; grant: string | null; issuedBefore: Date; expiresAt: Date };

export type PseudonymKind = 'client' | 'sub' | 'grant';

/** base64url(HMAC-SHA256(key, kind ":" value)): the same in the auth server and in TokenGuard. */
export function feedPseudonym(key: string, kind: PseudonymKind, value: string): string {
  return createHmac('sha256', Buffer.from(key, 'base64url')).update(`${kind}:${value}`).digest('base64url');
}

/** Whether a resource server serving `served` is given this entry at all. */
export function feedShows(entry: RevocationEntry, served: readonly string[]): boolean {
  if (entry.kind !== 'token' || entry.audience === null) return true;
  return entry.audience.some((aud) => served.includes(aud));
}

/** The entry as the resource server `client` sees it, or null when it is not shown to it. */
export function feedViewOf(entry: RevocationEntry, client: Pick<Client, 'resourceServerFor' | 'revocationFeedKey'>): FeedRevocation | null {
  if (!client.revocationFeedKey || !feedShows(entry, client.resourceServerFor)) return null;
  const { seq, expiresAt } = entry;
  if (entry.kind === 'token') return { seq, kind: 'token', jti: entry.jti, expiresAt };
  if (entry.kind === 'key') return { seq, kind: 'key', kid: entry.kid, expiresAt };
  const key = client.revocationFeedKey;
  return {
    seq,
    kind: 'issued-before',
    client: feedPseudonym(key, 'client', entry.clientId),
    subject: entry.subject ? feedPseudonym(key, 'sub', entry.subject) : null,
    grant: entry.grantId ? feedPseudonym(key, 'grant', entry.grantId) : null,
    issuedBefore: entry.issuedBefore,
    expiresAt,
  };
}

/** What a resource server knows of a token it verified, to match feed entries. */
export interface FeedToken {
  jti: string;
  clientId: string;
  sub: string;
  grantId?: string | null;
  /** Seconds since the epoch. */
  iat: number;
  kid?: string | null;
}

/**
 * True when `entry` revokes the token. `pseudonym` computes a pseudonym of the token's own values under the
 * resource server's key (callers may cache it); it is asked only for marks.
 */
export function feedRevocationMatches(entry: FeedRevocation, token: FeedToken, pseudonym: (kind: PseudonymKind, value: string) => string): boolean {
  if (entry.kind === 'token') return entry.jti === token.jti;
  if (entry.kind === 'key') return entry.kid === token.kid;
  return (
    token.iat * 1000 < entry.issuedBefore.getTime() &&
    entry.client === pseudonym('client', token.clientId) &&
    (entry.subject === null || entry.subject === pseudonym('sub', token.sub)) &&
    (entry.grant === null || (!!token.grantId && entry.grant === pseudonym('grant', token.grantId)))
  );
}
