import { ChangeFeed } from '../ports/change-feed.port.js';
import { RevocationRepository, type RevocationEntry } from '../ports/revocation.repository.js';

const PAGE = 500;
const RETRY_MS = 1000;
/** The log is also read on this timer, so an entry whose notification was lost (a stalled LISTEN connection) waits at most this long. */
export const REVOCATION_POLL_MS = 500;

type Listener = (entries: RevocationEntry[]) => void;
/** After each complete read: the latest seq, and when the read that found nothing more after it started (ms since the epoch). */
type ReadListener = (latest: string, readStartedAt: number) => void;

/**
 * Reads new revocation entries once per change notification, for every
 * follower this process serves: N open streams cost one query, not N. The
 * change feed carries notifications from every instance sharing the database,
 * so an entry committed anywhere reaches the followers of all instances. A
 * short poll underneath catches what a lost notification would have missed.
 */
export class RevocationBroadcaster {
  private readonly listeners = new Set<Listener>();
  private readonly readListeners = new Set<ReadListener>();
  private lastSeq = '0';
  private pumping: Promise<void> | null = null;
  private pending = false;
  private retry: NodeJS.Timeout | null = null;
  private poller?: NodeJS.Timeout;
  private unsubscribe?: () => void;
  /** Whether the last read failed: only the first failure of a run is reported, and then the recovery. */
  private failing = false;

  constructor(
    private readonly revocations: RevocationRepository,
    private readonly changes: ChangeFeed,
    private readonly report: { failed?: (error: unknown) => void; recovered?: () => void } = {},
    private readonly pollMs = REVOCATION_POLL_MS,
  ) {}

  async start(): Promise<void> {
    this.lastSeq = await this.revocations.latestSeq();
    this.unsubscribe = this.changes.subscribe((event) => {
      if (event.kind === 'revocation' || event.kind === 'all') this.pump();
    });
    this.poller = setInterval(() => this.pump(), this.pollMs);
    this.poller.unref();
  }

  stop(): void {
    this.unsubscribe?.();
    clearInterval(this.poller);
    if (this.retry) clearTimeout(this.retry);
    this.listeners.clear();
    this.readListeners.clear();
  }

  /** The last seq read so far (at start, the log's latest): every entry up to it had committed when it was read. */
  lastRead(): string {
    return this.lastSeq;
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Called after each successful read of the log (every poll, and after notifications), once the
   * entries it found have gone to the listeners. `latest` was the log's own latest when the last
   * query of that read started (each query sees every commit before it), so a follower that has
   * every entry up to `latest` missed nothing committed before `readStartedAt`. While the log
   * cannot be read, this is not called.
   */
  onRead(listener: ReadListener): () => void {
    this.readListeners.add(listener);
    return () => this.readListeners.delete(listener);
  }

  /** Reads everything after the last seq, coalescing notifications that arrive meanwhile. */
  pump(): void {
    if (this.pumping) {
      this.pending = true;
      return;
    }
    this.pumping = (async () => {
      let startedAt = 0;
      do {
        this.pending = false;
        for (;;) {
          startedAt = Date.now();
          const entries = await this.revocations.listAfter(this.lastSeq, PAGE);
          if (entries.length === 0) break;
          this.lastSeq = entries[entries.length - 1].seq;
          for (const listener of this.listeners) listener(entries);
          if (entries.length < PAGE) break;
        }
      } while (this.pending);
      if (this.failing) {
        this.failing = false;
        this.report.recovered?.();
      }
      for (const listener of this.readListeners) listener(this.lastSeq, startedAt);
    })()
      .catch((error: unknown) => {
        // The database is away: try again shortly, so no entry waits for the next notification.
        if (!this.failing) this.report.failed?.(error);
        this.failing = true;
        this.retry ??= setTimeout(() => {
          this.retry = null;
          this.pump();
        }, RETRY_MS);
      })
      .finally(() => {
        this.pumping = null;
        // Asked again after its last query (by a listener, or a notification, before this ran): read again now,
        // rather than at the next poll. After a failure, the retry reads.
        if (this.pending && !this.retry) this.pump();
      });
  }
}

/**
 * Follows the log from `after`: the entries already committed (in pages),
 * then every new one as the broadcaster reads it, each exactly once, in seq
 * order. Resolves once caught up; `deliver` keeps being called until `stop`.
 *
 * Entries purged at the end of the log (expired) leave the catch-up short of what the broadcaster has read, and
 * so of the `latest_seq` its heartbeats carry: `skipTo` is then called, before any later entry, with the seq the
 * cursor moves to, so the reader's cursor moves past them too and a heartbeat never looks like a gap.
 */
export async function followRevocations(
  revocations: RevocationRepository,
  broadcaster: RevocationBroadcaster,
  after: string,
  deliver: (entries: RevocationEntry[]) => void,
  skipTo: (seq: string) => void = () => undefined,
): Promise<{ stop: () => void; cursor: () => string }> {
  let cursor = BigInt(after);
  let caughtUp = false;
  const buffered: RevocationEntry[] = [];
  const send = (entries: RevocationEntry[]) => {
    const fresh = entries.filter((e) => BigInt(e.seq) > cursor);
    if (fresh.length === 0) return;
    cursor = BigInt(fresh[fresh.length - 1].seq);
    deliver(fresh);
  };
  // Subscribe first, so nothing committed during the catch-up is missed.
  const stop = broadcaster.subscribe((entries) => (caughtUp ? send(entries) : buffered.push(...entries)));
  // What the broadcaster had read before the last page was: every entry up to it had committed before that page's
  // query, so one the page did not return is gone (purged), not late.
  let known = 0n;
  try {
    for (;;) {
      known = BigInt(broadcaster.lastRead());
      const page = await revocations.listAfter(String(cursor), PAGE);
      send(page);
      if (page.length < PAGE) break;
    }
  } catch (error) {
    stop();
    throw error;
  }
  caughtUp = true;
  if (known > cursor) {
    cursor = known;
    skipTo(String(cursor));
  }
  send(buffered);
  return { stop, cursor: () => String(cursor) };
}
