import type { AccessTokenClaims } from '../domain/token.js';

export interface StoredAccessToken {
  claims: AccessTokenClaims;
  revokedAt: Date | null;
}

/** Opaque access tokens, kept only by the SHA-256 of the token. */
export abstract class AccessTokenRepository {
  abstract insert(tokenHash: string, claims: AccessTokenClaims): Promise<void>;
  abstract findByHash(tokenHash: string): Promise<StoredAccessToken | null>;
  /** Marks the token revoked and records the revocation, in one transaction. False when unknown or already revoked. */
  abstract revoke(tokenHash: string, at: Date): Promise<boolean>;
}
