import { RateLimitRepository } from '@tessera/oauth-core';

/** Rate-limit counts in a map, by key and window start. */
export class InMemoryRateLimitRepository extends RateLimitRepository {
  readonly counts = new Map<string, { windowStart: number; hits: number }>();

  async add(windowStart: Date, hits: ReadonlyMap<string, number>): Promise<Map<string, number>> {
    const totals = new Map<string, number>();
    for (const [key, n] of hits) {
      const id = `${windowStart.getTime()} ${key}`;
      const hits = (this.counts.get(id)?.hits ?? 0) + n;
      this.counts.set(id, { windowStart: windowStart.getTime(), hits });
      totals.set(key, hits);
    }
    return totals;
  }

  async purgeBefore(before: Date): Promise<number> {
    let deleted = 0;
    for (const [id, { windowStart }] of this.counts) {
      if (windowStart < before.getTime()) deleted += Number(this.counts.delete(id));
    }
    return deleted;
  }
}
