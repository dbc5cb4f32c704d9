/**
 * At most `maxRunning` tasks at a time, and at most `maxWaiting` waiting for a turn (first come,
 * first served); past that, a task is refused at once rather than queued without end.
 */
export class ConcurrencyLimit {
  private active = 0;
  private readonly queue: (() => void)[] = [];

  constructor(
    readonly maxRunning: number,
    readonly maxWaiting: number,
  ) {
    if (!Number.isInteger(maxRunning) || maxRunning < 1) throw new RangeError('maxRunning must be a whole number of at least 1');
    if (!Number.isInteger(maxWaiting) || maxWaiting < 0) throw new RangeError('maxWaiting must be a whole number of at least 0');
  }

  get running(): number {
    return this.active;
  }

  get waiting(): number {
    return this.queue.length;
  }

  /**
   * A turn: resolves, now or once a running task leaves, to the function that ends it (call it
   * exactly once, in a `finally`); null when every slot is taken and the queue is full.
   */
  enter(): Promise<() => void> | null {
    if (this.active < this.maxRunning) {
      this.active++;
      return Promise.resolve(this.leave());
    }
    if (this.queue.length >= this.maxWaiting) return null;
    return new Promise((resolve) => this.queue.push(() => resolve(this.leave())));
  }

  private leave(): () => void {
    let left = false;
    return () => {
      if (left) return;
      left = true;
      const next = this.queue.shift();
      // The slot passes straight to the next in line: `active` stays as it is.
      if (next) next();
      else this.active--;
    };
  }
}
