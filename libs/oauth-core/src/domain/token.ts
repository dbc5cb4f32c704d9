import type { AccessTokenFormat } from './client.js';

/** What an access token says, whatever its format (RFC 9068 §2.2 / RFC 7662 §2.2 claims). */
export interface AccessTokenClaims {
  jti: string;
  iss: string;
  sub: string;
  clientId: string;
  /** RFC 8707 audiences; empty when no resource was requested. */
  aud: string[];
  scope: string[];
  /** Seconds since the epoch. */
  iat: number;
  exp: number;
  /** The grant (authorization) this token descends from, if any. */
  grantId?: string | null;
  format: AccessTokenFormat;
  /** The `kid` that signed a JWT (a retired, compromised key revokes its tokens); absent for opaque tokens. */
  kid?: string;
}

/** An issued access token in its wire form. */
export interface IssuedAccessToken {
  token: string;
  claims: AccessTokenClaims;
  expiresIn: number;
}
