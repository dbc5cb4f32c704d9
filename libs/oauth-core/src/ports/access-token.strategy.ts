import type { AccessTokenFormat } from '../domain/client.js';
import type { AccessTokenClaims } from '../domain/token.js';

/**
 * Issue and verify one access-token format. The resource side reuses the
 * verify half (TokenGuard), the auth server uses all of it.
 */
export abstract class AccessTokenStrategy {
  abstract readonly format: AccessTokenFormat;
  /** Cheap shape test, no crypto and no I/O: is this token of this strategy's format? */
  abstract recognizes(token: string): boolean;
  /** Returns the wire form of a new token carrying `claims`. */
  abstract issue(claims: AccessTokenClaims): Promise<string>;
  /**
   * The claims of a token this server issued that is unexpired and not marked
   * revoked in its own record; null for anything else (garbage, bad signature,
   * unknown, expired). Issued-before marks are checked by the caller.
   */
  abstract verify(token: string): Promise<AccessTokenClaims | null>;
  /**
   * Optional: `verify` and the revocation log's check (jti, issued-before and key marks) in one step, where the
   * strategy can do both at once; null also when the log revokes the token. The inspector then skips its own check.
   */
  declare readonly verifyActive?: (token: string) => Promise<AccessTokenClaims | null>;
  /** Revokes a token whose claims `verify` returned. */
  abstract revoke(token: string, claims: AccessTokenClaims, at: Date): Promise<void>;
}
