import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import type { AuthServerConfig } from '@tessera/config';
import { ChangeFeed, followRevocations, RevocationBroadcaster, RevocationRepository, revocationWire, type RevocationEntry } from '@tessera/oauth-core';
import { KeySet } from '@tessera/tokens';
import type { ServerResponse } from 'node:http';
import { AUTH_SERVER_CONFIG } from '../oauth/oauth.tokens.js';

/**
 * The Server-Sent Events streams of the revocation feed. One broadcaster per
 * process reads new entries once per notification and writes them to every
 * open stream. A `keys` event tells followers to refetch the JWKS when the
 * signing keys change. Streams are ended at shutdown, or the server would wait on them.
 */
@Injectable()
export class RevocationStreams implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('RevocationFeed');
  private readonly broadcaster: RevocationBroadcaster;
  private readonly open = new Set<ServerResponse>();
  private heartbeat?: NodeJS.Timeout;
  private unsubscribeKeys?: () => void;

  constructor(
    private readonly revocations: RevocationRepository,
    changes: ChangeFeed,
    private readonly keys: KeySet,
    @Inject(AUTH_SERVER_CONFIG) private readonly config: AuthServerConfig,
  ) {
    this.broadcaster = new RevocationBroadcaster(revocations, changes, {
      failed: (e) => this.logger.warn(`reading new revocations failed, retrying every second: ${e instanceof Error ? e.message : String(e)}`),
      recovered: () => this.logger.log('reading new revocations works again'),
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.broadcaster.start();
    this.heartbeat = setInterval(() => {
      // A heartbeat on every stream, so followers can tell a quiet feed from a dead one; none while this instance
      // cannot read the log, since a heartbeat vouches that its followers have every entry up to latest_seq.
      if (!this.broadcaster.current()) return;
      this.broadcast(`event: heartbeat\ndata: ${JSON.stringify({ latest_seq: this.broadcaster.latest() })}\n\n`);
    }, this.config.revocations.heartbeatSeconds * 1000);
    this.heartbeat.unref();
    // After a rotation here or on another instance, once this instance's JWKS serves the new keys.
    this.unsubscribeKeys = this.keys.onPublishedKeysChanged((kids) => this.broadcast(keysEvent(kids)));
  }

  beforeApplicationShutdown(): void {
    this.unsubscribeKeys?.();
    clearInterval(this.heartbeat);
    this.broadcaster.stop();
    for (const res of this.open) res.end();
  }

  /** Serves one follower from `after`: catch-up, a `caught-up` event, the current `keys`, then live entries, key changes and heartbeats. */
  async serve(res: ServerResponse, after: string): Promise<void> {
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    res.write('retry: 1000\n\n');
    const write = (entries: RevocationEntry[]) => {
      for (const e of entries) res.write(`id: ${e.seq}\nevent: revocation\ndata: ${JSON.stringify(revocationWire(e))}\n\n`);
    };
    this.open.add(res);
    let follower: { stop: () => void; cursor: () => string } | undefined;
    res.on('close', () => {
      this.open.delete(res);
      follower?.stop();
    });
    try {
      follower = await followRevocations(this.revocations, this.broadcaster, after, write);
      if (res.destroyed) return follower.stop();
      res.write(`event: caught-up\ndata: ${JSON.stringify({ seq: follower.cursor() })}\n\n`);
      // A follower that reconnects may have missed a key change.
      res.write(keysEvent(this.keys.publishedKids()));
    } catch (error) {
      // The database went away during the catch-up: the follower reconnects (retry: 1000) and resumes.
      this.logger.warn(`revocation stream catch-up failed: ${error instanceof Error ? error.message : String(error)}`);
      res.end();
    }
  }

  /** To every open stream not yet ended (an ended response stays in `open` until it closes). */
  private broadcast(text: string): void {
    for (const res of this.open) if (!res.writableEnded) res.write(text);
  }
}

/** The kids the JWKS now publishes. No `id:` line, so the follower's Last-Event-ID stays on its last revocation. */
function keysEvent(kids: string[]): string {
  return `event: keys\ndata: ${JSON.stringify({ kids })}\n\n`;
}
