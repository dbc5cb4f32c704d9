/**
 * Failed sign-ins, by throttling key (an account, `user:<SHA-256 of the lowercased username>`, or
 * an address, `ip:<address>`), shared by every auth-server instance.
 */
export abstract class SignInFailureRepository {
  /** Records one failure at `at` under each key. */
  abstract record(keys: string[], at: Date): Promise<void>;
  /** For each of `keys`, the times of its failures later than `since`, oldest first; keys without any are absent. */
  abstract since(keys: string[], since: Date): Promise<Map<string, Date[]>>;
  /** Forgets every failure under these keys (a successful sign-in clears its account's). */
  abstract clear(keys: string[]): Promise<void>;
  /** Deletes failures at or before `before`; returns how many. */
  abstract purgeBefore(before: Date): Promise<number>;
}
