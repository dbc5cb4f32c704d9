/** What `@VerifiedToken()` gives a handler: the claims of a token TokenGuard accepted. */
export interface VerifiedAccessToken {
  subject: string;
  clientId: string;
  scopes: string[];
  audience: string[];
  issuer: string;
  expiresAt: Date;
  jti: string;
  format: 'jwt' | 'opaque';
}

/**
 * A verified token as the strategies return it and the caches keep it: the
 * handler's view plus `issuedAt` (seconds since the epoch), which a revocation
 * feed needs to drop tokens of a client issued before a given time.
 */
export interface TokenRecord {
  token: VerifiedAccessToken;
  issuedAt: number;
  /** The grant the token descends from, when the token says (a JWT's `gid`). */
  grantId?: string | null;
  /** The signing key of a JWT. */
  kid?: string;
}
