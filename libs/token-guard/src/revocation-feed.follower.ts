// Follows the auth server's revocation feed (Server-Sent Events) so that a
// revocation reaches this resource server within a second, for JWTs checked
// locally and for cached introspection results alike.
import { Logger } from '@nestjs/common';
import { parseRevocationWire, type FeedRevocation } from '@tessera/oauth-core';
import type { IntrospectionCredentials } from './token-guard.options.js';

export interface RevocationFeedFollowerOptions {
  /** The feed's URL from the metadata; undefined when the auth server offers none. */
  endpoint: () => Promise<string | undefined>;
  /** HTTP Basic credentials of this resource server; undefined while they are not available yet. */
  credentials: () => IntrospectionCredentials | undefined;
  /** Past this long without hearing from the feed, the follower is stale (and reconnects). */
  maxStalenessMs: number;
  /** New entries, in seq order, each once. */
  onEntries: (entries: FeedRevocation[]) => void;
  /**
   * The key of this resource server's pseudonyms (sent first on each connection). When it differs from the
   * one before (other credentials), the entries kept so far no longer match: `onReset` drops them, and the
   * follower reads the feed again from the start.
   */
  onPseudonymKey?: (key: string) => void;
  onReset?: () => void;
  /** The auth server's signing keys changed (a `keys` event, sent on each connection after `caught-up` and at each change). */
  onKeysChanged?: () => void;
  now?: () => number;
}

export type FollowerState = 'starting' | 'following' | 'not-offered' | 'stopped';

const MIN_BACKOFF_MS = 100;
/** Short: an auth server back from a restart (or another instance behind the same address) is followed again within a second. */
const MAX_BACKOFF_MS = 1000;

export class RevocationFeedFollower {
  private readonly logger = new Logger('TokenGuard');
  private readonly now: () => number;
  private state: FollowerState = 'starting';
  private cursor = '0';
  private caughtUp = false;
  /** As of when the feed last proved current: a catch-up, or after one on the open connection, an entry or the read a heartbeat follows. */
  private lastHeard = 0;
  /** Whether the open connection has caught up (entries missed while away are applied). */
  private connectionCaughtUp = false;
  private abort?: AbortController;
  private lastError = '';
  private pseudonymKey?: string;
  /** Cuts the wait between reconnection attempts short. */
  private wake?: () => void;
  /** Requests waiting for the outcome of the next connection attempt. */
  private waiters: (() => void)[] = [];

  constructor(private readonly options: RevocationFeedFollowerOptions) {
    this.now = options.now ?? Date.now;
  }

  start(): void {
    void this.run();
  }

  stop(): void {
    this.state = 'stopped';
    this.abort?.abort();
    this.attemptEnded();
  }

  /**
   * A request found the feed stale: reconnect now rather than after the backoff, and resolve when
   * the feed proves current again (a catch-up or a heartbeat) or that attempt has failed.
   */
  nudge(): Promise<void> {
    if (this.stopped()) return Promise.resolve();
    const outcome = new Promise<void>((resolve) => this.waiters.push(resolve));
    this.wake?.();
    return outcome;
  }

  private attemptEnded(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }

  private stopped(): boolean {
    return this.state === 'stopped';
  }

  /** Whether revocations come from the feed (or are still expected to). */
  following(): boolean {
    return this.state === 'starting' || this.state === 'following';
  }

  /** Not caught up yet, or nothing heard for longer than the staleness bound. */
  stale(): boolean {
    return this.following() && (!this.caughtUp || this.now() - this.lastHeard > this.options.maxStalenessMs);
  }

  /** Seconds since the feed last proved current (an entry, a catch-up, a heartbeat); undefined while not following or not caught up. */
  lagSeconds(): number | undefined {
    return this.following() && this.caughtUp ? Math.max(0, this.now() - this.lastHeard) / 1000 : undefined;
  }

  status(): { following: boolean; caughtUp: boolean; stale: boolean; lastSeq: string } {
    return { following: this.following(), caughtUp: this.caughtUp, stale: this.stale(), lastSeq: this.cursor };
  }

  private async run(): Promise<void> {
    let backoff = MIN_BACKOFF_MS;
    while (this.state !== 'stopped') {
      try {
        const endpoint = await this.options.endpoint();
        if (!endpoint) {
          this.state = 'not-offered';
          this.logger.warn('the authorization server offers no revocation feed: revoked JWTs stay valid until they expire');
          this.attemptEnded();
          return;
        }
        const credentials = this.options.credentials();
        if (credentials) {
          if (await this.stream(endpoint, credentials)) backoff = MIN_BACKOFF_MS;
        }
      } catch (error) {
        const message = error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error);
        if (!this.stopped() && message !== this.lastError) this.logger.warn(`revocation feed: ${message}; reconnecting`);
        this.lastError = message;
      }
      this.attemptEnded();
      if (this.stopped()) return;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        setTimeout(resolve, backoff).unref();
      });
      this.wake = undefined;
      backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
    }
  }

  /** One connection, resumed after the last seq seen; true when it delivered anything. Ends when the stream does. */
  private async stream(endpoint: string, { clientId, clientSecret }: IntrospectionCredentials): Promise<boolean> {
    const abort = (this.abort = new AbortController());
    let activity = this.now();
    // A silent connection (no event, no heartbeat) is as good as a dead one: drop it and reconnect.
    const watchdog = setInterval(() => {
      if (this.now() - activity > this.options.maxStalenessMs) abort.abort(new Error('the feed went silent'));
    }, Math.max(50, Math.floor(this.options.maxStalenessMs / 4)));
    watchdog.unref();
    const form = (s: string) => encodeURIComponent(s).replace(/%20/g, '+');
    let delivered = false;
    try {
      const url = new URL(endpoint);
      url.searchParams.set('after', this.cursor);
      const res = await fetch(url, {
        headers: { accept: 'text/event-stream', authorization: `Basic ${Buffer.from(`${form(clientId)}:${form(clientSecret)}`).toString('base64')}` },
        signal: abort.signal,
      });
      if (!res.ok || !res.body) {
        const why = ((await res.json().catch(() => null)) as { error_description?: unknown } | null)?.error_description;
        throw new Error(`the feed answered ${res.status}${typeof why === 'string' ? ` (${why.slice(0, 200)})` : ''}`);
      }
      this.state = 'following';
      this.connectionCaughtUp = false;
      let buffer = '';
      for await (const chunk of res.body.pipeThrough(new TextDecoderStream())) {
        activity = this.now();
        buffer += chunk.replace(/\r\n?/g, '\n');
        let end: number;
        // After a resync, nothing more from this connection is applied: the next one resumes from the cursor.
        while (!abort.signal.aborted && (end = buffer.indexOf('\n\n')) >= 0) {
          this.dispatch(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
          delivered = true;
        }
      }
      throw new Error('the feed closed the stream');
    } catch (error) {
      if (this.stopped()) return delivered;
      if (!delivered) throw error;
      const resync = abort.signal.reason instanceof Error && abort.signal.reason.message.startsWith('resync:');
      // A resync has logged its reason already.
      if (!resync) this.logger.warn(`revocation feed interrupted (${error instanceof Error ? error.message : String(error)}); resuming after seq ${this.cursor}`);
      return true;
    } finally {
      clearInterval(watchdog);
    }
  }

  /**
   * One Server-Sent Event (WHATWG HTML §9.2.6): `event` and `data` fields; comments ignored. The feed
   * counts as current (`lastHeard`) only on what proves it: a caught-up event, an entry after it, or a
   * heartbeat whose `latest_seq` we have reached (as of its read, `age_ms` earlier). Anything else
   * fails closed: `resync`.
   */
  private dispatch(block: string): void {
    let event = 'message';
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line === '' || line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
    }
    if (data.length === 0 && event === 'message') return; // a block of fields only (`retry:`), no event
    const body = safeJson(data.join('\n'));
    switch (event) {
      case 'revocation': {
        const entry = parseRevocationWire(body);
        if (!entry) return this.resync(`a revocation event it cannot read: ${data.join('\n').slice(0, 200)}`);
        if (BigInt(entry.seq) > BigInt(this.cursor)) {
          this.options.onEntries([entry]);
          this.cursor = entry.seq;
        }
        if (this.connectionCaughtUp) this.heard(this.now());
        return;
      }
      case 'cursor': {
        // Entries this resource server is not shown: the cursor moves past them all the same.
        const seq = (body as { seq?: unknown } | null)?.seq;
        if (typeof seq !== 'string' || !/^\d{1,19}$/.test(seq)) return this.resync(`a cursor event it cannot read: ${data.join('\n').slice(0, 200)}`);
        if (BigInt(seq) > BigInt(this.cursor)) this.cursor = seq;
        if (this.connectionCaughtUp) this.heard(this.now());
        return;
      }
      case 'pseudonym-key': {
        const key = (body as { key?: unknown } | null)?.key;
        if (typeof key !== 'string' || !/^[A-Za-z0-9_-]{16,}$/.test(key)) return this.resync('a pseudonym key it cannot read');
        if (this.pseudonymKey === key) return;
        const before = this.pseudonymKey;
        this.pseudonymKey = key;
        this.options.onPseudonymKey?.(key);
        if (before === undefined) return;
        // Another key (other credentials): what was kept cannot be matched any more; read it all again.
        this.options.onReset?.();
        this.cursor = '0';
        return this.resync('the pseudonym key changed (other credentials?); reading the feed again from the start');
      }
      case 'caught-up':
        if (!this.caughtUp) this.logger.log(`revocation feed caught up at seq ${this.cursor}`);
        this.caughtUp = this.connectionCaughtUp = true;
        this.lastError = '';
        this.heard(this.now());
        this.attemptEnded();
        return;
      case 'heartbeat': {
        const { latest_seq: latest, age_ms: age = 0 } = (body ?? {}) as { latest_seq?: unknown; age_ms?: unknown };
        if (typeof latest !== 'string' || !/^\d+$/.test(latest) || typeof age !== 'number' || !Number.isSafeInteger(age) || age < 0) {
          return this.resync(`a heartbeat it cannot read: ${data.join('\n').slice(0, 200)}`);
        }
        if (!this.connectionCaughtUp) return;
        // Entries reach a caught-up stream before any heartbeat that counts them: behind it means some were lost.
        if (BigInt(latest) > BigInt(this.cursor)) return this.resync(`a gap: the auth server is at seq ${latest}, this stream at ${this.cursor}`);
        // Current as of the read the heartbeat follows, `age_ms` before it was sent.
        this.heard(this.now() - age);
        return;
      }
      case 'keys':
        // Says nothing about revocations, so it proves nothing current.
        this.options.onKeysChanged?.();
        return;
      default:
        return this.resync(`an unknown event "${event.slice(0, 50)}"`);
    }
  }

  /** The feed proved current as of `at`; requests waiting for that go on at once. */
  private heard(at: number): void {
    this.lastHeard = Math.max(this.lastHeard, at);
    if (this.waiters.length > 0 && !this.stale()) this.attemptEnded();
  }

  /** Fail closed: stale until a new connection has caught up again from the last seq applied, which starts at once. */
  private resync(reason: string): void {
    this.logger.error(`revocation feed: ${reason}; the feed counts as stale, reconnecting from seq ${this.cursor}`);
    this.caughtUp = this.connectionCaughtUp = false;
    this.abort?.abort(new Error(`resync: ${reason}`));
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
