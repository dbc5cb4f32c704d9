import { SignInFailureRepository } from '@tessera/oauth-core';

export class InMemorySignInFailureRepository extends SignInFailureRepository {
  /** In the order recorded. */
  failures: { key: string; failedAt: Date }[] = [];

  async record(keys: string[], at: Date): Promise<void> {
    for (const key of keys) this.failures.push({ key, failedAt: new Date(at) });
  }

  async since(keys: string[], since: Date): Promise<Map<string, Date[]>> {
    const found = new Map<string, Date[]>();
    const later = this.failures.filter((f) => keys.includes(f.key) && f.failedAt > since);
    // A stable sort: failures at the same instant stay in the order recorded.
    for (const { key, failedAt } of later.sort((a, b) => a.failedAt.getTime() - b.failedAt.getTime())) {
      const times = found.get(key) ?? [];
      times.push(new Date(failedAt));
      found.set(key, times);
    }
    return found;
  }

  async clear(keys: string[]): Promise<void> {
    this.failures = this.failures.filter((f) => !keys.includes(f.key));
  }

  async purgeBefore(before: Date): Promise<number> {
    const kept = this.failures.filter((f) => f.failedAt > before);
    const purged = this.failures.length - kept.length;
    this.failures = kept;
    return purged;
  }
}
