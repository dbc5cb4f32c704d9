import type { AccessTokenClaims } from '../domain/token.js';

/**
 * A revocation record: either one token by `jti` (kept until the token's
 * expiry), or every token of a client (optionally narrowed to a subject or a
 * grant) issued before `issuedBefore`.
 */
export type Revocation =
  | { kind: 'token'; jti: string; clientId: string; expiresAt: Date; revokedAt: Date }
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

export abstract class RevocationRepository {
  /** Records that the JWT `jti` is revoked until `expiresAt`. Idempotent. */
  abstract revokeToken(jti: string, clientId: string, expiresAt: Date, at: Date): Promise<void>;
  /** True when a record matches the token: its jti, or an issued-before mark for its client, subject or grant. */
  abstract isRevoked(claims: AccessTokenClaims): Promise<boolean>;
}
