/**
 * Group commit: rows written by concurrent callers share one statement (one multi-row INSERT, one commit).
 *
 * `add` queues a row and resolves once the statement that carries it has succeeded, so a caller's row is
 * committed (durable, with PostgreSQL's default synchronous_commit) before the caller goes on. Nothing waits on
 * a timer: when fewer than `maxInFlight` writes are running, a write starts at once with whatever is queued
 * (a lone request goes out alone); otherwise rows queue until a running write finishes, and the next write
 * takes up to `maxRows` of them. When a write fails, every caller of that batch gets the error. A write may
 * return one result per row, in order (revocation: whether each token was revoked); each caller gets its own.
 */
export class GroupCommit<Row, Result = void> {
  private queue: { row: Row; resolve: (result: Result) => void; reject: (error: unknown) => void }[] = [];
  private inFlight = 0;

  constructor(
    private readonly write: (rows: Row[]) => Promise<Result[] | void>,
    private readonly options: {
      maxRows: number;
      maxInFlight: number;
      /** Told the rows of each statement as it starts (metrics: how well writes group). */
      observe?: (rows: number) => void;
    },
  ) {}

  add(row: Row): Promise<Result> {
    return new Promise<Result>((resolve, reject) => {
      this.queue.push({ row, resolve, reject });
      if (this.inFlight < this.options.maxInFlight) void this.drain();
    });
  }

  /** Writes batches until the queue is empty; several drains run at once up to `maxInFlight`. */
  private async drain(): Promise<void> {
    this.inFlight++;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.options.maxRows);
        this.options.observe?.(batch.length);
        try {
          const results = await this.write(batch.map((entry) => entry.row));
          batch.forEach((entry, i) => entry.resolve(results ? results[i] : (undefined as Result)));
        } catch (error) {
          for (const entry of batch) entry.reject(error);
        }
      }
    } finally {
      this.inFlight--;
    }
  }
}

/** The statements that group-commit their rows. */
export type GroupCommitStatement = 'access_token_insert' | 'access_token_revocation' | 'token_revocation' | 'refresh_token_rotation';

/** Told the rows of each group-commit statement (`GroupCommit`'s `observe`), by statement. */
export type GroupCommitObserver = (statement: GroupCommitStatement, rows: number) => void;
