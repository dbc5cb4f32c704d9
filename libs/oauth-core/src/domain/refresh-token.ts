/** A refresh token as stored (by hash). Rotation replaces it by a new one of the same family. */
export interface RefreshToken {
  /** Every token rotated from one grant shares it. */
  familyId: string;
  clientId: string;
  subject: string;
  scope: string[];
  audience: string[];
  grantId: string;
  issuedAt: Date;
  expiresAt: Date;
}

export interface StoredRefreshToken extends RefreshToken {
  rotatedAt: Date | null;
  revokedAt: Date | null;
}
