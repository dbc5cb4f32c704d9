import { SignInFailureRepository, type SignInReservation } from '@tessera/oauth-core';

export class InMemorySignInFailureRepository extends SignInFailureRepository {
  /** In the order recorded. */
  failures: { id: string; key: string; failedAt: Date }[] = [];
  private nextId = 1;

  /** Atomic as the port requires: no await between the check and the record. */
  async reserve(limits: { key: string; limit: number }[], since: Date, at: Date): Promise<SignInReservation> {
    const keys = limits.map((l) => l.key);
    const recent = this.recent(keys, since);
    if (limits.some(({ key, limit }) => (recent.get(key)?.length ?? 0) >= limit)) return { reserved: false, failures: recent };
    const ids = keys.map((key) => {
      const id = String(this.nextId++);
      this.failures.push({ id, key, failedAt: new Date(at) });
      return id;
    });
    return { reserved: true, ids };
  }

  async release({ ids }: { ids: string[] }): Promise<void> {
    this.failures = this.failures.filter((f) => !ids.includes(f.id));
  }

  async since(keys: string[], since: Date): Promise<Map<string, Date[]>> {
    return this.recent(keys, since);
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

  private recent(keys: string[], since: Date): Map<string, Date[]> {
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
}
