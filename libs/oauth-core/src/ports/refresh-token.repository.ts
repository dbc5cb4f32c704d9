import type { RefreshToken, StoredRefreshToken } from '../domain/refresh-token.js';

/** Refresh tokens, kept only by the SHA-256 of the token. */
export abstract class RefreshTokenRepository {
  abstract insert(tokenHash: string, token: RefreshToken): Promise<void>;
  abstract findByHash(tokenHash: string): Promise<StoredRefreshToken | null>;
  /**
   * In one transaction: marks `tokenHash` rotated at `at` and inserts `next`.
   * False (and nothing inserted) when the token was already rotated or revoked,
   * so of two concurrent rotations exactly one succeeds.
   */
  abstract rotate(tokenHash: string, at: Date, nextHash: string, next: RefreshToken): Promise<boolean>;
  /**
   * In one transaction: revokes every refresh token of the grant's family and
   * records an issued-before mark for the grant, so its access tokens (JWTs
   * included) stop working too.
   */
  abstract revokeGrant(clientId: string, grantId: string, at: Date): Promise<void>;
}
