import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { RevocationFeedFollower } from './revocation-feed.follower.js';
import type { TokenGuardCounts, TokenGuardMetricsSnapshot } from './token-guard.metrics.js';

export const REVOCATION_FOLLOWER = Symbol('REVOCATION_FOLLOWER');
export const TOKEN_GUARD_COUNTS = Symbol('TOKEN_GUARD_COUNTS');

/** How TokenGuard follows the auth server's revocation feed. */
export interface RevocationFeedStatus {
  /** Revocations come from the feed (or are expected to: it is starting). */
  following: boolean;
  /** The feed has delivered every revocation up to the moment it connected. */
  caughtUp: boolean;
  /** Caught up but not heard from within `maxStalenessSeconds`, or not caught up yet. */
  stale: boolean;
  /** The last revocation applied. */
  lastSeq: string;
}

/** What a resource server's readiness check asks TokenGuard. Also starts and stops the revocation feed with the app. */
@Injectable()
export class TokenGuardStatus implements OnApplicationBootstrap, OnModuleDestroy {
  constructor(
    @Inject(REVOCATION_FOLLOWER) private readonly follower: RevocationFeedFollower | null,
    @Inject(TOKEN_GUARD_COUNTS) private readonly counts: TokenGuardCounts,
  ) {}

  onApplicationBootstrap(): void {
    this.follower?.start();
  }

  onModuleDestroy(): void {
    this.follower?.stop();
  }

  revocationFeed(): RevocationFeedStatus {
    return this.follower?.status() ?? { following: false, caughtUp: false, stale: false, lastSeq: '0' };
  }

  /** What TokenGuard counted since start (what the `metrics` option exposes to Prometheus). */
  metrics(): TokenGuardMetricsSnapshot {
    return this.counts.snapshot();
  }

  /** True when revocations are not followed, or the feed has caught up and is fresh. */
  ready(): boolean {
    return !this.follower?.stale();
  }
}
