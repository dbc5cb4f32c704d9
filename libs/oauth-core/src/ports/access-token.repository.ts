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
  /**
   * Optional: `findByHash` and the revocation log's verdict on the token (`RevocationRepository.isRevoked` of its
   * claims: its jti, or an issued-before mark for its client, subject or grant) in one read, so that introspection
   * costs one round trip. An implementation offers it only where it sees the log the revocation repository writes.
   */
  findByHashWithLog?(tokenHash: string): Promise<(StoredAccessToken & { revokedByLog: boolean }) | null>;
}
