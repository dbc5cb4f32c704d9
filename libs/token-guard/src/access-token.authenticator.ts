import { OAuthError } from '@tessera/oauth-core';
import { hashToken } from '@tessera/tokens';
import type { IntrospectionCache } from './introspection.cache.js';
import type { JwtAccessTokenChecker } from './jwt-access-token.checker.js';
import type { RevocationFeedFollower } from './revocation-feed.follower.js';
import type { RevocationList } from './revocation.list.js';
import type { TokenCache } from './token.cache.js';
import type { TokenRecord, VerifiedAccessToken } from './verified-access-token.js';

/** Three base64url segments (the last empty for an unsigned token, which the JWT check then refuses). */
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** The revocation feed as the authenticator uses it. */
export interface FollowedRevocations {
  follower: RevocationFeedFollower;
  list: RevocationList;
  onStale: 'fail-closed' | 'introspect';
  /** How long a request that finds the feed stale waits for a reconnection attempt. */
  settleWaitMs: number;
}

/**
 * Decides a token's format once, by its shape, and verifies it once: a JWT
 * locally against the JWKS, anything else by introspection. Both results are
 * cached by the token's hash (a JWT until it expires), and the revocation
 * feed's list is applied on top, cached or not.
 */
export class AccessTokenAuthenticator {
  constructor(
    private readonly jwts: Pick<JwtAccessTokenChecker, 'check'>,
    private readonly verifiedJwts: TokenCache<TokenRecord>,
    private readonly introspection: IntrospectionCache | undefined,
    private readonly now: () => number = Date.now,
    private readonly revocations?: FollowedRevocations,
  ) {}

  /** The token's claims; throws `invalid_token`, or `temporarily_unavailable` when the auth server is needed and unreachable. */
  async authenticate(token: string): Promise<VerifiedAccessToken> {
    const feed = this.revocations;
    if (!feed) return (await this.verify(token)).token;
    if (feed.follower.stale()) {
      // Just started, or the feed dropped: reconnect now, and wait (briefly) for that attempt rather than refuse at once.
      await Promise.race([feed.follower.nudge(), sleep(feed.settleWaitMs)]);
      if (feed.follower.stale()) return this.whileStale(token, feed);
    }
    const record = await this.verify(token);
    if (feed.list.revokes(record)) throw OAuthError.invalidToken('token revoked');
    return record.token;
  }

  /** Revocations may be missing: apply the configured policy. */
  private async whileStale(token: string, feed: FollowedRevocations): Promise<VerifiedAccessToken> {
    if (feed.onStale === 'fail-closed' || !this.introspection) {
      throw OAuthError.temporarilyUnavailable(new Error('the revocation feed is stale'));
    }
    const outcome = await this.introspection.fresh(token);
    if (!outcome.active) throw OAuthError.invalidToken(outcome.reason);
    return { ...outcome.record.token, format: JWT_SHAPE.test(token) ? 'jwt' : 'opaque' };
  }

  /** Signature or introspection (each cached), without the revocation feed. */
  private async verify(token: string): Promise<TokenRecord> {
    if (!JWT_SHAPE.test(token)) {
      if (!this.introspection) throw OAuthError.invalidToken('opaque tokens are not accepted here');
      const outcome = await this.introspection.check(token);
      if (!outcome.active) throw OAuthError.invalidToken(outcome.reason);
      return outcome.record;
    }
    const key = hashToken(token);
    const cached = this.verifiedJwts.get(key);
    if (cached) return cached;
    const since = this.verifiedJwts.version();
    const record = await this.jwts.check(token);
    this.verifiedJwts.set(key, record, record.token.expiresAt.getTime() - this.now(), since);
    return record;
  }

  /** Drops cached verifications of both formats that the predicate matches (for a revocation feed); returns how many. */
  forget(predicate: (record: TokenRecord) => boolean): number {
    return this.verifiedJwts.deleteWhere(predicate) + (this.introspection?.deleteWhere(predicate) ?? 0);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
