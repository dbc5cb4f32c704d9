// Repeated failures, summarised: a database or an upstream that is down fails every request, and a line per
// failure buries everything else (and costs as much as the requests). The first failure is written in full, then
// one line per interval with how many more there were, then one line when it works again.

export type FailureSummaryLine =
  /** The first failure after a success (or ever): written in full. */
  | { kind: 'first'; message: string }
  /** `count` more failures since the previous line; `message` is the latest one. */
  | { kind: 'repeated'; count: number; message: string; failingForMs: number }
  /** It works again: `count` failures since the previous line, `total` since the first. */
  | { kind: 'recovered'; count: number; total: number; failingForMs: number };

export interface FailureSummaryOptions {
  /** At most one `repeated` line per this many milliseconds. */
  intervalMs: number;
  /** Milliseconds now; default `Date.now`. */
  now?: () => number;
  /**
   * Write the count of an interval once it has passed even when no failure comes after it, with an unref'd timer
   * (default true). Off in tests, which call `flush()` after moving their clock.
   */
  timer?: boolean;
}

export class FailureSummary {
  private readonly now: () => number;
  private failingSince: number | null = null;
  private lastLineAt = 0;
  private pending = 0;
  private total = 0;
  private lastMessage = '';
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly write: (line: FailureSummaryLine) => void,
    private readonly options: FailureSummaryOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  get failing(): boolean {
    return this.failingSince !== null;
  }

  /** A failure: written when it is the first, counted otherwise (and the count written once an interval has passed). */
  failure(message: string): void {
    const now = this.now();
    this.total++;
    this.lastMessage = message;
    if (this.failingSince === null) {
      this.failingSince = now;
      this.lastLineAt = now;
      this.pending = 0;
      this.write({ kind: 'first', message });
      if (this.options.timer !== false) {
        this.timer = setInterval(() => this.flush(), this.options.intervalMs);
        this.timer.unref();
      }
      return;
    }
    this.pending++;
    this.flush(now);
  }

  /** A success: when failures came before, the recovery line. Cheap when nothing failed. */
  success(): void {
    if (this.failingSince === null) return;
    const now = this.now();
    this.write({ kind: 'recovered', count: this.pending, total: this.total, failingForMs: now - this.failingSince });
    this.reset();
  }

  /** Writes the failures counted since the last line, once an interval has passed since it. */
  flush(now = this.now()): void {
    if (this.failingSince === null || this.pending === 0 || now - this.lastLineAt < this.options.intervalMs) return;
    this.write({ kind: 'repeated', count: this.pending, message: this.lastMessage, failingForMs: now - this.failingSince });
    this.pending = 0;
    this.lastLineAt = now;
  }

  /** Stops the timer (nothing more is written). */
  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private reset(): void {
    this.close();
    this.failingSince = null;
    this.pending = 0;
    this.total = 0;
  }
}

/** The usual wording of a summary line, for a logger that takes one message. */
export function describeFailureSummary(what: string, line: FailureSummaryLine): string {
  switch (line.kind) {
    case 'first':
      return `${what}: ${line.message}`;
    case 'repeated':
      return `${what}: ${line.count} more failure(s), failing for ${Math.round(line.failingForMs / 1000)} s (latest: ${line.message})`;
    case 'recovered':
      return `${what}: recovered after ${Math.round(line.failingForMs / 1000)} s and ${line.total} failure(s)`;
  }
}
