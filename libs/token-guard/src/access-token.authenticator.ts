import passport from 'passport';
import { OAuthError } from '@tessera/oauth-core';
import { hashToken } from '@tessera/tokens';
import type { IntrospectionCache } from './introspection.cache.js';
import type { RevocationFeedFollower } from './revocation-feed.follower.js';
import type { RevocationList } from './revocation.list.js';
import { JWT_STRATEGY, type JwtAccessTokenPassportStrategy } from './jwt-access-token.passport-strategy.js';
import { OPAQUE_STRATEGY, type OpaqueAccessTokenPassportStrategy } from './opaque-access-token.passport-strategy.js';
import type { TokenCache } from './token.cache.js';
import type { TokenRecord, VerifiedAccessToken } from './verified-access-token.js';

/** Three base64url segments (the last empty for an unsigned token, which the JWT strategy then refuses). */
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
 * Verifies a bearer token with the passport strategy its shape calls for: a
 * JWT locally, anything else by introspection. Verified JWTs are cached by
 * token hash until they expire, since jsonwebtoken is the slow part.
 */
export class AccessTokenAuthenticator {
  /** This module's own passport instance: two apps in one process never share or replace each other's strategies. */
  private readonly passport = new passport.Authenticator();

  constructor(
    jwtStrategy: JwtAccessTokenPassportStrategy,
    opaqueStrategy: OpaqueAccessTokenPassportStrategy,
    private readonly verifiedJwts: TokenCache<TokenRecord>,
    private readonly introspection: IntrospectionCache | undefined,
    private readonly now: () => number = Date.now,
    private readonly revocations?: FollowedRevocations,
  ) {
    this.passport.use(JWT_STRATEGY, jwtStrategy);
    this.passport.use(OPAQUE_STRATEGY, opaqueStrategy);
  }

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
      // A cached introspection result needs no strategy run at all.
      const known = this.introspection?.cached(token);
      if (known) {
        if (!known.active) throw OAuthError.invalidToken(known.reason);
        return known.record;
      }
      return this.runStrategy(OPAQUE_STRATEGY, token);
    }
    const key = hashToken(token);
    const cached = this.verifiedJwts.get(key);
    if (cached) return cached;
    const since = this.verifiedJwts.version();
    const record = await this.runStrategy(JWT_STRATEGY, token);
    this.verifiedJwts.set(key, record, record.token.expiresAt.getTime() - this.now(), since);
    return record;
  }

  /** Drops cached verifications of both formats that the predicate matches (for a revocation feed); returns how many. */
  forget(predicate: (record: TokenRecord) => boolean): number {
    return this.verifiedJwts.deleteWhere(predicate) + (this.introspection?.deleteWhere(predicate) ?? 0);
  }

  /**
   * Runs one strategy the way @nestjs/passport's AuthGuard does, on a request
   * that holds only the token: extraction (RFC 6750 §2) is ours, and stricter
   * than each strategy's own.
   */
  private runStrategy(name: string, token: string): Promise<TokenRecord> {
    return new Promise((resolve, reject) => {
      const request = { headers: { authorization: `Bearer ${token}` } };
      const authenticate = this.passport.authenticate(name, { session: false }, (error: unknown, record: TokenRecord | false, info: unknown) => {
        if (error) reject(error);
        else if (record) resolve(record);
        else reject(failureReason(info));
      });
      authenticate(request, {}, reject);
    });
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** A strategy's failure as `invalid_token`, with a safe description (jsonwebtoken's messages name the expected values). */
function failureReason(info: unknown): OAuthError {
  if (info instanceof OAuthError) return info;
  const { name, message } = (info ?? {}) as { name?: string; message?: string };
  if (name === 'TokenExpiredError') return OAuthError.invalidToken('token expired');
  if (name === 'NotBeforeError') return OAuthError.invalidToken('token not yet valid');
  if (message?.startsWith('jwt audience invalid')) return OAuthError.invalidToken('unexpected audience');
  if (message?.startsWith('jwt issuer invalid')) return OAuthError.invalidToken('unexpected issuer');
  if (message === 'invalid signature') return OAuthError.invalidToken('invalid signature');
  if (message === 'invalid algorithm') return OAuthError.invalidToken('algorithm not allowed');
  if (message === 'jwt malformed') return OAuthError.invalidToken('malformed token');
  return OAuthError.invalidToken('token could not be verified');
}
