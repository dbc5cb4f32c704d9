/**
 * The revocation log's latest seq, read by a query that starts after the caller asked: whatever had committed
 * before the call (a revocation another instance already answered 200 for) is at or below the answer. Concurrent
 * callers share one query: those that arrive while none is waiting to start open the next one, which starts at the
 * end of the current event-loop turn (so requests read in the same turn join it), or, when `maxInFlight` queries
 * already run, as soon as one of them ends; those that arrive before it starts join it. A query that has started is never joined, since
 * it may have begun before the caller's own request.
 */
export class RevocationLogFence {
  /** The callers of the next query, not started yet. */
  private waiting: Batch | null = null;
  private inFlight = 0;
  private scheduled = false;

  constructor(
    /** The log's latest committed seq (`RevocationRepository.latestSeq`). */
    private readonly read: () => Promise<string>,
    private readonly maxInFlight = 1,
  ) {}

  /** The log's latest seq, from a read that started after this call. */
  latest(): Promise<string> {
    if (!this.waiting) {
      this.waiting = newBatch();
      this.schedule();
    }
    return this.waiting.promise;
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.maxInFlight || !this.waiting) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.dispatch();
    });
  }

  private dispatch(): void {
    const batch = this.waiting;
    if (!batch || this.inFlight >= this.maxInFlight) return;
    this.waiting = null;
    this.inFlight++;
    let started: Promise<string>;
    try {
      started = this.read();
    } catch (error) {
      started = Promise.reject(error);
    }
    started.then(batch.resolve, batch.reject).finally(() => {
      this.inFlight--;
      // Its callers all came while this read ran: the next one starts now.
      this.dispatch();
    });
  }
}

interface Batch {
  promise: Promise<string>;
  resolve: (seq: string) => void;
  reject: (error: unknown) => void;
}

function newBatch(): Batch {
  let resolve!: (seq: string) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<string>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
