import { OAuthError } from '@tessera/oauth-core';
import { hashToken } from '@tessera/tokens';
import type { IntrospectionCache } from './introspection.cache.js';
import type { JwtAccessTokenChecker } from './jwt-access-token.checker.js';
import type { RevocationFeedFollower } from './revocation-feed.follower.js';
import type { RevocationList } from './revocation.list.js';
import type { TokenCache } from './token.cache.js';
import type { TokenRecord, VerifiedAccessToken } from './verified-access-token.js';

/**
 * A JWS compact serialization has exactly two dots; anything else is opaque. (The extractor has already
 * checked the characters; the JWT check refuses what is not base64url.)
 */
function isJwt(token: string): boolean {
  const [first, last] = [token.indexOf('.'), token.lastIndexOf('.')];
  return first > 0 && last > first + 1 && token.indexOf('.', first + 1) === last;
}

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

  /**
   * The claims of a token verified before (a cached JWT or introspection result) that no revocation
   * has touched, while the feed is fresh; otherwise undefined, and `authenticate` decides. No await:
   * most requests carry a token seen before.
   */
  known(token: string, key = hashToken(token)): VerifiedAccessToken | undefined {
    const feed = this.revocations;
    if (feed?.follower.stale()) return undefined;
    let record = this.verifiedJwts.get(key);
    if (!record) {
      const outcome = this.introspection?.cached(token, key);
      if (!outcome?.active) return undefined;
      record = outcome.record;
    }
    return feed?.list.revokes(record) ? undefined : record.token;
  }

  /** The token's claims; throws `invalid_token`, or `temporarily_unavailable` when the auth server is needed and unreachable. */
  async authenticate(token: string, key = hashToken(token)): Promise<VerifiedAccessToken> {
    const feed = this.revocations;
    if (!feed) return (await this.verify(token, key)).token;
    if (feed.follower.stale()) {
      // Just started, or the feed dropped: reconnect now, and wait (briefly) for that attempt rather than refuse at once.
      await Promise.race([feed.follower.nudge(), sleep(feed.settleWaitMs)]);
      if (feed.follower.stale()) return this.whileStale(token, feed);
    }
    const record = await this.verify(token, key);
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
    return { ...outcome.record.token, format: isJwt(token) ? 'jwt' : 'opaque' };
  }

  /** Signature or introspection (each cached), without the revocation feed. */
  private async verify(token: string, key: string): Promise<TokenRecord> {
    if (!isJwt(token)) {
      if (!this.introspection) throw OAuthError.invalidToken('opaque tokens are not accepted here');
      const outcome = await this.introspection.check(token, key);
      if (!outcome.active) throw OAuthError.invalidToken(outcome.reason);
      return outcome.record;
    }
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
