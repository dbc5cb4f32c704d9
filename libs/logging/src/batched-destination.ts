import type { DestinationStream } from 'pino';

/** Where a batch goes: a synchronous writer of whole strings (sonic-boom with `sync: true`, which retries EAGAIN). */
export interface SyncWriter {
  write(data: string): unknown;
}

/** Past this many characters pending, a batch is written at once rather than when its time is up. */
const MAX_PENDING = 16 * 1024;
/** How long a line may wait for the lines after it, by default. */
const DEFAULT_DELAY_MS = 10;

/** The destinations whose pending lines the process writes out as it exits (weakly held: a dropped logger goes). */
const LIVE = new Set<WeakRef<BatchedDestination>>();
let exitHookInstalled = false;

function flushAllOnExit(): void {
  for (const ref of LIVE) {
    const destination = ref.deref();
    if (destination) destination.flushSync();
    else LIVE.delete(ref);
  }
}

/**
 * A pino destination that writes lines in batches, in one synchronous write at most `delayMs` (10 ms) after the first
 * line of the batch, instead of one system call per line: under load, the request lines of every response finished
 * in those milliseconds share one write to the pipe, and whoever reads it is woken once. Nothing waits on a thread
 * or a callback: each write is synchronous and in order, as pino's own sync destination's.
 *
 * What is pending is written at once when it exceeds 16 KiB, when `flushSync` (pino's `fatal`) or `flush`
 * (`logger.flush()`, which the audit log calls after each event) is called, and when the process exits: on
 * `process.exit`, the end of the event loop, or an uncaught error ('exit' event). A process killed by a signal it
 * does not handle (SIGKILL) loses what was pending: the lines of its last 10 ms, never more than 16 KiB. The auth
 * server stops on SIGTERM/SIGINT through `process.exit`, so a normal stop loses nothing.
 */
export class BatchedDestination implements DestinationStream {
  private pending = '';
  private timer: NodeJS.Timeout | undefined;
  private readonly flushLater = (): void => {
    this.timer = undefined;
    this.flushSync();
  };

  constructor(
    private readonly out: SyncWriter,
    private readonly delayMs = DEFAULT_DELAY_MS,
  ) {
    LIVE.add(new WeakRef(this));
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      process.on('exit', flushAllOnExit);
    }
  }

  write(line: string): void {
    this.pending += line;
    if (this.pending.length >= MAX_PENDING) this.flushSync();
    // Unreferenced: a pending batch never keeps the process alive (it is written as the process exits).
    else if (this.timer === undefined) this.timer = setTimeout(this.flushLater, this.delayMs).unref();
  }

  /** Writes what is pending now, synchronously. */
  flushSync(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.pending === '') return;
    const batch = this.pending;
    this.pending = '';
    this.out.write(batch);
  }

  /** pino's `logger.flush(cb)`: the same, synchronously, then `cb`. */
  flush(cb?: (error?: Error) => void): void {
    this.flushSync();
    cb?.();
  }
}
