import type { RefreshToken, StoredRefreshToken } from '../domain/refresh-token.js';

/** A stored refresh token and its user's standing, read together. */
export interface RefreshTokenWithUser {
  token: StoredRefreshToken;
  /** The subject is a known user, not disabled. */
  userActive: boolean;
}

/** Refresh tokens, kept only by the SHA-256 of the token. */
export abstract class RefreshTokenRepository {
  abstract insert(tokenHash: string, token: RefreshToken): Promise<void>;
  abstract findByHash(tokenHash: string): Promise<StoredRefreshToken | null>;
  /**
   * Optional (the refresh grant reads the token and then its user when a store lacks it): the token of `tokenHash`
   * and, read with it in one go (one statement), whether its subject is a user allowed to sign in (known and not
   * disabled). Null when no token has that hash.
   */
  findForRefresh?(tokenHash: string): Promise<RefreshTokenWithUser | null>;
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
