import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { AuthServerConfig } from '@tessera/config';
import { Clock, RevocationRepository, SessionRepository, SignInFailureRepository } from '@tessera/oauth-core';
import { AUTH_SERVER_CONFIG } from '../oauth/oauth.tokens.js';

/**
 * Deletes what can no longer matter: revocation entries that match no
 * unexpired token, expired sessions, failed sign-ins older than the throttling
 * window. Every instance may run it: the deletes are idempotent.
 */
@Injectable()
export class Purger implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('Purger');
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly revocations: RevocationRepository,
    private readonly sessions: SessionRepository,
    private readonly failures: SignInFailureRepository,
    private readonly clock: Clock,
    @Inject(AUTH_SERVER_CONFIG) private readonly config: AuthServerConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.purge(), this.config.revocations.purgeIntervalSeconds * 1000);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  /** How many rows went, in all. */
  async purge(): Promise<number> {
    const now = this.clock.now();
    const jobs: [string, () => Promise<number>][] = [
      ['expired revocation entries', () => this.revocations.purgeExpired(now)],
      ['expired sessions', () => this.sessions.purgeExpired(now)],
      ['old failed sign-ins', () => this.failures.purgeBefore(new Date(now.getTime() - this.config.signIn.windowSeconds * 1000))],
    ];
    let total = 0;
    for (const [what, purge] of jobs) {
      try {
        const purged = await purge();
        if (purged > 0) this.logger.log(`purged ${purged} ${what}`);
        total += purged;
      } catch (error) {
        this.logger.warn(`purging ${what} failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    return total;
  }
}
