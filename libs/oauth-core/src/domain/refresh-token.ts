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
  /** When the family's first token was issued; no token of the family expires later than this plus the maximum lifetime. */
  familyIssuedAt: Date;
  expiresAt: Date;
}

export interface StoredRefreshToken extends RefreshToken {
  rotatedAt: Date | null;
  revokedAt: Date | null;
}
