import type { AccessTokenClaims } from '../domain/token.js';

/**
 * A revocation record: either one token by `jti` (kept until the token's
 * expiry), or every token of a client (optionally narrowed to a subject or a
 * grant) issued before `issuedBefore`.
 */
export type Revocation =
  | {
      kind: 'token';
      jti: string;
      clientId: string;
      /** The revoked token's audiences, so the feed gives it only to their resource servers; null when not recorded (older entries). */
      audience: string[] | null;
      expiresAt: Date;
      revokedAt: Date;
    }
  /** Every JWT signed with the signing key `kid` (a key retired because it may be compromised). */
  | { kind: 'key'; kid: string; expiresAt: Date; revokedAt: Date }
  | {
      kind: 'issued-before';
      clientId: string;
      subject?: string | null;
      grantId?: string | null;
      issuedBefore: Date;
      /** After this instant no token the mark matches can still be unexpired. */
      expiresAt: Date;
      revokedAt: Date;
    };

/** A revocation as the feed carries it: `seq` is its place in the append-only log (a bigint, as a decimal string). */
export type RevocationEntry = Revocation & { seq: string };

/** True when `revocation` makes the token with these claims invalid. */
export function revocationMatches(
  revocation: Revocation,
  claims: Pick<AccessTokenClaims, 'jti' | 'clientId' | 'sub' | 'grantId' | 'iat'> & { kid?: string | null },
): boolean {
  if (revocation.kind === 'token') return revocation.jti === claims.jti;
  if (revocation.kind === 'key') return revocation.kid === claims.kid;
  return (
    revocation.clientId === claims.clientId &&
    (revocation.subject == null || revocation.subject === claims.sub) &&
    (revocation.grantId == null || revocation.grantId === claims.grantId) &&
    claims.iat * 1000 < revocation.issuedBefore.getTime()
  );
}

/**
 * Where an issued-before mark that must catch every token issued up to `now`
 * is set: the start of the next second, since `iat` counts whole seconds.
 */
export function issuedBeforeNow(now: Date): Date {
  return new Date((Math.floor(now.getTime() / 1000) + 1) * 1000);
}

export abstract class RevocationRepository {
  /** Records that the JWT `jti` (of `clientId`, for `audience`) is revoked until `expiresAt`. Idempotent. */
  abstract revokeToken(jti: string, clientId: string, audience: string[], expiresAt: Date, at: Date): Promise<void>;
  /** Records that every token of the grant issued before `issuedBefore` is revoked (an issued-before mark). */
  abstract revokeGrant(clientId: string, grantId: string, issuedBefore: Date): Promise<void>;
  /** Records that every token of the subject, at any client, issued before `issuedBefore` is revoked. */
  abstract revokeSubject(subject: string, issuedBefore: Date): Promise<void>;
  /** True when a record matches the token: its jti, or an issued-before mark for its client, subject or grant. */
  abstract isRevoked(claims: AccessTokenClaims): Promise<boolean>;
  /** Up to `limit` entries with seq > `after`, in seq order. Entries commit in seq order, so a reader never skips one. */
  abstract listAfter(after: string, limit: number): Promise<RevocationEntry[]>;
  /** The highest seq so far ('0' when there is none). */
  abstract latestSeq(): Promise<string>;
  /** Deletes entries that can no longer match an unexpired token; returns how many. */
  abstract purgeExpired(now: Date): Promise<number>;
}
