/**
 * Request counts per rate-limit key (`token:client:<client_id>`, `token:address:<ip>`, …) and fixed
 * window, shared by every auth-server instance. Written in batches: an instance adds the hits it
 * admitted since its last flush, all keys in one call.
 */
export abstract class RateLimitRepository {
  /**
   * Adds each key's `hits` to its count in the window that starts at `windowStart`, atomically against
   * concurrent calls from any instance, and returns every given key's count there afterwards (the
   * hits of all instances).
   */
  abstract add(windowStart: Date, hits: ReadonlyMap<string, number>): Promise<Map<string, number>>;
  /** Forgets the counts of windows that started before `before`; returns how many were deleted. */
  abstract purgeBefore(before: Date): Promise<number>;
}
