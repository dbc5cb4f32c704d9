import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import type { AuthServerConfig } from '@tessera/config';
import {
  ChangeFeed,
  feedViewOf,
  followRevocations,
  REVOCATION_POLL_MS,
  RevocationBroadcaster,
  RevocationFeedEndpoint,
  RevocationRepository,
  revocationWire,
  OAuthError,
  type FeedReader,
  type RevocationEntry,
} from '@tessera/oauth-core';
import { DatabaseFailureLog, isDatabaseOutage } from '@tessera/persistence';
import { KeySet } from '@tessera/tokens';
import type { ServerResponse } from 'node:http';
import { AUTH_SERVER_CONFIG } from '../oauth/oauth.tokens.js';

/**
 * The Server-Sent Events streams of the revocation feed. One broadcaster per
 * process reads new entries once per notification and writes them to every
 * open stream. A `keys` event tells followers to refetch the JWKS when the
 * signing keys change. Streams are ended at shutdown, or the server would wait on them.
 *
 * Each stream is read by one resource server and carries only what it is shown (`feedViewOf`): its
 * pseudonym key first, then the entries for it. When entries it is not shown end a batch, a `cursor`
 * event (with their last seq as `id`) moves its cursor past them, so a heartbeat's `latest_seq` still
 * proves that nothing was lost. When its client changes (disabled, secret rotated, role changed; on any
 * instance), the stream is checked again and ended if the client may no longer read it.
 */
@Injectable()
export class RevocationStreams implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('RevocationFeed');
  /** Open streams, and who reads each. */
  private readonly open = new Map<ServerResponse, FeedReader>();
  private readonly heartbeatMs: number;
  private lastHeartbeat = 0;
  private unsubscribeReads?: () => void;
  private unsubscribeKeys?: () => void;
  private unsubscribeClients?: () => void;

  /** @param broadcaster the server's reader of the log (built, started and stopped by `composeAuthServer`), read at least as often as heartbeats go out */
  constructor(
    private readonly revocations: RevocationRepository,
    private readonly changes: ChangeFeed,
    private readonly endpoint: RevocationFeedEndpoint,
    private readonly keys: KeySet,
    private readonly broadcaster: RevocationBroadcaster,
    @Inject(AUTH_SERVER_CONFIG) config: AuthServerConfig,
    @Inject(DatabaseFailureLog) private readonly databaseFailures: DatabaseFailureLog,
  ) {
    this.heartbeatMs = Math.round(config.revocations.heartbeatSeconds * 1000);
    const pollMs = Math.min(REVOCATION_POLL_MS, this.heartbeatMs);
    this.unsubscribeReads = this.broadcaster.onRead((latest, readStartedAt) => {
      // Reads come every pollMs (and after notifications); a heartbeat follows one every heartbeatMs, within half a poll.
      const now = Date.now();
      if (now - this.lastHeartbeat < this.heartbeatMs - pollMs / 2) return;
      this.lastHeartbeat = now;
      this.broadcast(heartbeatEvent(latest, now - readStartedAt));
    });
  }

  onApplicationBootstrap(): void {
    // After a rotation here or on another instance, once this instance's JWKS serves the new keys.
    this.unsubscribeKeys = this.keys.onPublishedKeysChanged((kids) => this.broadcast(keysEvent(kids)));
    this.unsubscribeClients = this.changes.subscribe((event) => {
      if (event.kind === 'client') this.recheck((reader) => reader.clientId === event.clientId);
      else if (event.kind === 'all') this.recheck(() => true);
    });
  }

  /**
   * Checks the streams whose reader `affected` picks against the client as it now is (read from the database),
   * and ends those it may no longer read. A check that fails (the database is away) ends the stream too: the
   * follower reconnects, and is authenticated again.
   */
  private recheck(affected: (reader: FeedReader) => boolean): void {
    const streams = [...this.open].filter(([res, reader]) => !res.writableEnded && affected(reader));
    if (streams.length === 0) return;
    for (const [res, reader] of streams) {
      this.endpoint.stillAllowed(reader).then(
        (allowed) => {
          if (allowed) return;
          this.logger.log(`revocation stream of client ${reader.clientId} ended: the client changed and may no longer read the feed`);
          res.end();
        },
        () => res.end(),
      );
    }
  }

  beforeApplicationShutdown(): void {
    this.unsubscribeKeys?.();
    this.unsubscribeClients?.();
    this.unsubscribeReads?.();
    for (const res of this.open.keys()) res.end();
  }

  /**
   * Serves one follower from `after`: its pseudonym key, the catch-up, a `caught-up` event, the current
   * `keys`, then live entries, key changes and heartbeats.
   */
  async serve(res: ServerResponse, after: string, reader: FeedReader): Promise<void> {
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    res.write('retry: 1000\n\n');
    res.write(`event: pseudonym-key\ndata: ${JSON.stringify({ key: reader.revocationFeedKey })}\n\n`);
    const write = (entries: RevocationEntry[]) => {
      let shownUpTo: string | null = null;
      for (const e of entries) {
        const view = feedViewOf(e, reader);
        if (!view) continue;
        res.write(`id: ${e.seq}\nevent: revocation\ndata: ${JSON.stringify(revocationWire(view))}\n\n`);
        shownUpTo = e.seq;
      }
      // Entries it is not shown still move its cursor, or the next heartbeat would look like a gap.
      const last = entries.at(-1);
      if (last && last.seq !== shownUpTo) res.write(cursorEvent(last.seq));
    };
    this.open.set(res, reader);
    let follower: { stop: () => void; cursor: () => string } | undefined;
    res.on('close', () => {
      this.open.delete(res);
      follower?.stop();
    });
    try {
      // Entries purged at the end of the log: a `cursor` event moves the reader past them.
      follower = await followRevocations(this.revocations, this.broadcaster, after, write, (seq) => res.write(cursorEvent(seq)));
      if (res.destroyed) return follower.stop();
      res.write(`event: caught-up\ndata: ${JSON.stringify({ seq: follower.cursor() })}\n\n`);
      // A follower that reconnects may have missed a key change.
      res.write(keysEvent(this.keys.publishedKids()));
    } catch (error) {
      // The database went away during the catch-up: the follower reconnects (retry: 1000) and resumes.
      // Every follower retries each second while PostgreSQL is down: summarised with the requests' failures.
      const cause = error instanceof OAuthError ? error.cause : error; // an adapter's temporarily_unavailable carries the driver's error
      if (isDatabaseOutage(cause)) this.databaseFailures.failure(cause);
      else this.logger.warn(`revocation stream catch-up failed: ${error instanceof Error ? error.message : String(error)}`);
      res.end();
    }
  }

  /** To every open stream not yet ended (an ended response stays in `open` until it closes). */
  private broadcast(text: string): void {
    for (const res of this.open.keys()) if (!res.writableEnded) res.write(text);
  }
}

/**
 * A heartbeat vouches that a stream which has sent everything up to `latest_seq` missed nothing committed
 * before `age_ms` ago: it follows a read of the log that started then. So a follower counts its freshness
 * from the read, not from the arrival, and an instance that cannot read the log sends none.
 */
function heartbeatEvent(latest: string, ageMs: number): string {
  return `event: heartbeat\ndata: ${JSON.stringify({ latest_seq: latest, age_ms: Math.max(0, ageMs) })}\n\n`;
}

/** Moves the reader's cursor (its Last-Event-ID too) to `seq`, past entries it is not shown or that were purged. */
function cursorEvent(seq: string): string {
  return `id: ${seq}\nevent: cursor\ndata: ${JSON.stringify({ seq })}\n\n`;
}

/** The kids the JWKS now publishes. No `id:` line, so the follower's Last-Event-ID stays on its last revocation. */
function keysEvent(kids: string[]): string {
  return `event: keys\ndata: ${JSON.stringify({ kids })}\n\n`;
}
