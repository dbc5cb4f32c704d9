import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { Clock, RevocationRepository } from '@tessera/oauth-core';
import { AUTH_SERVER_CONFIG } from '../oauth/oauth.tokens.js';
import type { AuthServerConfig } from '@tessera/config';

/** Deletes revocation entries that can no longer match an unexpired token. Every instance may run it: the delete is idempotent. */
@Injectable()
export class RevocationPurger implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('RevocationPurger');
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly revocations: RevocationRepository,
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

  async purge(): Promise<number> {
    try {
      const purged = await this.revocations.purgeExpired(this.clock.now());
      if (purged > 0) this.logger.log(`purged ${purged} expired revocation entries`);
      return purged;
    } catch (error) {
      this.logger.warn(`purging revocations failed: ${error instanceof Error ? error.message : String(error)}`);
      return 0;
    }
  }
}
