import { Inject, Injectable, Logger, Optional, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import type { AuthServerConfig } from '@tessera/config';
import { Clock } from '@tessera/oauth-core';
import { ExpiredRowPurger, type PurgeCutoffs, type PurgeTarget } from '@tessera/persistence';
import { RETIRED_KEY_SKEW_SECONDS } from '@tessera/tokens';
import { OAuthMetrics } from '../metrics/oauth.metrics.js';
import { AUTH_SERVER_CONFIG } from '../oauth/oauth.tokens.js';

const WHAT: Record<PurgeTarget, string> = {
  accessTokens: 'expired access tokens',
  refreshTokenFamilies: 'refresh tokens of expired families',
  unredeemedCodes: 'expired authorization codes',
  redeemedCodes: 'redeemed authorization codes past their grant',
  sessions: 'expired sessions',
  signInFailures: 'old failed sign-ins',
  revocations: 'expired revocation entries',
};

/**
 * Deletes what can no longer matter, every TESSERA_REVOCATION_PURGE_INTERVAL: expired opaque access tokens,
 * refresh-token families and authorization codes past any use, expired sessions, failed sign-ins older than the
 * throttling window, and revocation entries that match no unexpired token. One instance at a time (the others
 * skip: see ExpiredRowPurger), in small batches that never hold up requests.
 */
@Injectable()
export class Purger implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('Purger');
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;
  private stopping = false;

  constructor(
    private readonly purger: ExpiredRowPurger,
    private readonly clock: Clock,
    @Inject(AUTH_SERVER_CONFIG) private readonly config: AuthServerConfig,
    @Optional() @Inject(OAuthMetrics) private readonly metrics?: OAuthMetrics,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.purge(), this.config.revocations.purgeIntervalSeconds * 1000);
    this.timer.unref();
  }

  /** A purge under way ends after its current batch. */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    clearInterval(this.timer);
    await this.running;
  }

  /**
   * Until when each kind of row can matter. The skew covers verifiers' clock tolerance and clock differences
   * between instances: a token a resource server still accepts is never one whose revocation was purged.
   */
  cutoffs(now = this.clock.now()): PurgeCutoffs {
    const { tokens, signIn } = this.config;
    const ago = (seconds: number) => new Date(now.getTime() - seconds * 1000);
    const skew = RETIRED_KEY_SKEW_SECONDS;
    return {
      accessTokens: ago(skew),
      // An access token issued at the family's last refresh lives up to the longest lifetime after it.
      refreshTokenFamilies: ago(tokens.maxAccessTokenTtl + skew),
      unredeemedCodes: ago(skew),
      // A reused code revokes its grant: kept while the grant's refresh tokens (and their access tokens) may live.
      redeemedCodes: ago(tokens.refreshTokenMaxLifetime + tokens.maxAccessTokenTtl + skew),
      sessions: now,
      signInFailures: ago(signIn.windowSeconds),
      revocations: ago(skew),
    };
  }

  /** Rows deleted per kind, or null when another instance was purging (or this one already is). */
  purge(): Promise<Record<PurgeTarget, number> | null> {
    if (this.running || this.stopping) return Promise.resolve(null);
    const run = this.purger
      .purge(this.cutoffs(), { stopping: () => this.stopping })
      .then((purged) => {
        if (purged) {
          this.metrics?.purged(purged);
          const summary = purgeSummary(purged);
          if (summary) this.logger.log(summary);
        }
        return purged;
      })
      .catch((error: unknown) => {
        this.logger.warn(`purging failed, trying again at the next interval: ${error instanceof Error ? error.message : String(error)}`);
        return null;
      })
      .finally(() => (this.running = undefined));
    this.running = run;
    return run;
  }
}

/** One line for a purge that deleted anything (`purged 12 rows: 10 expired access tokens, 2 expired sessions`); null when it deleted nothing. */
export function purgeSummary(purged: Record<PurgeTarget, number>): string | null {
  const parts = (Object.entries(purged) as [PurgeTarget, number][]).filter(([, n]) => n > 0);
  if (parts.length === 0) return null;
  const total = parts.reduce((sum, [, n]) => sum + n, 0);
  return `purged ${total} row(s): ${parts.map(([target, n]) => `${n} ${WHAT[target]}`).join(', ')}`;
}
