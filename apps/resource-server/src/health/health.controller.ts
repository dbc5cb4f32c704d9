import { Controller, Get, Res } from '@nestjs/common';
import { TokenGuardStatus } from '@tessera/token-guard';
import type { FastifyReply } from 'fastify';
import { DataSource } from 'typeorm';

/** How the revocation feed stands, as /health/ready reports it. */
export type RevocationFeedCheck = 'off' | 'catching-up' | 'stale' | 'up';

/** Public: no token needed. */
@Controller('health')
export class HealthController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly tokenGuard: TokenGuardStatus,
  ) {}

  @Get('live')
  live() {
    return { status: 'ok' };
  }

  /**
   * Ready when its database answers and TokenGuard is (when it follows the
   * revocation feed: caught up, and heard from within the staleness bound);
   * 503 otherwise, so load balancers send no traffic to a server that would
   * accept a token revoked meanwhile or refuse every one.
   */
  @Get('ready')
  async ready(@Res({ passthrough: true }) reply: FastifyReply) {
    const database = await this.dataSource.query('SELECT 1').then(
      () => 'up' as const,
      () => 'down' as const,
    );
    const ready = database === 'up' && this.tokenGuard.ready();
    if (!ready) reply.status(503);
    return { status: ready ? 'ok' : 'unavailable', checks: { database, revocation_feed: this.revocationFeed() } };
  }

  private revocationFeed(): RevocationFeedCheck {
    const feed = this.tokenGuard.revocationFeed();
    if (!feed.following) return 'off';
    if (!feed.caughtUp) return 'catching-up'; // (TokenGuard counts that as stale too)
    return feed.stale ? 'stale' : 'up';
  }
}
