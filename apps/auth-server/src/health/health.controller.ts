import { Controller, Get, Header, Res } from '@nestjs/common';
import { HealthCheck } from '@tessera/oauth-core';
import type { FastifyReply } from 'fastify';

@Controller('health')
export class HealthController {
  constructor(private readonly db: HealthCheck) {}

  @Get('live')
  @Header('Cache-Control', 'no-store')
  live() {
    return { status: 'ok' };
  }

  /** Ready when the database answers; 503 otherwise (load balancers stop sending traffic). */
  @Get('ready')
  @Header('Cache-Control', 'no-store')
  async ready(@Res({ passthrough: true }) reply: FastifyReply) {
    try {
      await this.db.ping();
      return { status: 'ok', checks: { database: 'up' } };
    } catch {
      reply.status(503);
      return { status: 'unavailable', checks: { database: 'down' } };
    }
  }
}
