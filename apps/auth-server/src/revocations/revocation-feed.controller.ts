import { Controller, Get, Headers, Query, Res } from '@nestjs/common';
import { RevocationFeedEndpoint } from '@tessera/oauth-core';
import type { FastifyReply } from 'fastify';
import { formOf } from '../http/form.decorator.js';
import { RevocationStreams } from './revocation-streams.js';

@Controller()
export class RevocationFeedController {
  constructor(
    private readonly endpoint: RevocationFeedEndpoint,
    private readonly streams: RevocationStreams,
  ) {}

  /** JSON pages for catch-up; with `Accept: text/event-stream`, a stream that resumes at `Last-Event-ID`. */
  @Get('oauth2/revocations')
  async feed(
    @Headers('authorization') authorization: string | undefined,
    @Headers('accept') accept: string | undefined,
    @Headers('last-event-id') lastEventId: string | undefined,
    @Query() query: unknown,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    if (accept?.includes('text/event-stream')) {
      const { after, reader } = await this.endpoint.open(authorization, query, lastEventId, formOf(reply.request));
      reply.hijack();
      await this.streams.serve(reply.raw, after, reader);
      return;
    }
    const page = await this.endpoint.page(authorization, query, formOf(reply.request));
    void reply.header('Cache-Control', 'no-store').send(page);
  }
}
