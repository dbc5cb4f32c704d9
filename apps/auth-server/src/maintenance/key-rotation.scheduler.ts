import { Inject, Injectable, Logger, Optional, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import type { AuthServerConfig } from '@tessera/config';
import { KeySet } from '@tessera/tokens';
import { OAuthMetrics } from '../metrics/oauth.metrics.js';
import { AUTH_SERVER_CONFIG } from '../oauth/oauth.tokens.js';

/**
 * Scheduled signing-key rotation (TESSERA_KEY_ROTATION_INTERVAL). Every instance checks, without touching the
 * database until the active key is due; then the instances that find it due race for a transaction-scoped
 * advisory lock, and the one that gets it rotates (after checking the newest key's age again under the lock),
 * the others skip. Everyone else hears of the new key as of a `keys rotate`: NOTIFY, then a reload, then a
 * `keys` event on the revocation feed, and the retired key stays in the JWKS until its last token has expired.
 */
@Injectable()
export class KeyRotationScheduler implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('KeyRotation');
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;

  constructor(
    private readonly keys: KeySet,
    @Inject(AUTH_SERVER_CONFIG) private readonly config: AuthServerConfig,
    @Optional() @Inject(OAuthMetrics) private readonly metrics?: OAuthMetrics,
  ) {}

  onApplicationBootstrap(): void {
    const interval = this.config.tokens.keyRotationInterval;
    if (interval === 0) return;
    this.timer = setInterval(() => void this.check(), checkPeriodMs(interval));
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** Rotates when due and no other instance is at it; true when this instance rotated. Failures are logged, not thrown. */
  check(): Promise<boolean> {
    const run = (this.running ??= this.keys
      .rotateIfDue(this.config.tokens.keyRotationInterval)
      .then((rotated) => {
        if (rotated) this.metrics?.scheduledKeyRotation();
        if (rotated) this.logger.log(`rotated the signing key on schedule; now signing with ${this.keys.signingKey().kid}`);
        return rotated;
      })
      .catch((error: unknown) => {
        this.logger.warn(`scheduled key rotation failed, trying again later: ${error instanceof Error ? error.message : String(error)}`);
        return false;
      })
      .finally(() => (this.running = undefined)));
    return run as Promise<boolean>;
  }
}

/** How often an instance looks: a tenth of the interval, between 1 s and a minute (a look costs no query until due). */
export function checkPeriodMs(intervalSeconds: number): number {
  return Math.min(60_000, Math.max(1000, (intervalSeconds * 1000) / 10));
}
