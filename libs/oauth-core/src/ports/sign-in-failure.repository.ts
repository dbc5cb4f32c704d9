/**
 * Failed sign-ins, by throttling key (an account, `user:<SHA-256 of the lowercased username>`, or
 * an address, `ip:<address>`), shared by every auth-server instance.
 *
 * An attempt is recorded before its password is checked (`reserve`), atomically against its limits,
 * so that concurrent attempts cannot all pass one check; a successful sign-in takes its own back
 * (`release`). A process that dies between the two leaves a failure behind, which errs on the safe side.
 */
export abstract class SignInFailureRepository {
  /**
   * Records one failure at `at` under each key, if every key has fewer than its `limit` failures
   * later than `since`; otherwise records nothing and says, for each key, the times of its failures
   * later than `since`, oldest first. Atomic against concurrent calls for the same keys, in every
   * instance sharing the store: of N concurrent calls against a limit L, at most L reserve.
   */
  abstract reserve(limits: { key: string; limit: number }[], since: Date, at: Date): Promise<SignInReservation>;
  /** Takes back the failures a reservation recorded (the attempt succeeded, or was never checked). */
  abstract release(reservation: { ids: string[] }): Promise<void>;
  /** For each of `keys`, the times of its failures later than `since`, oldest first; keys without any are absent. */
  abstract since(keys: string[], since: Date): Promise<Map<string, Date[]>>;
  /** Forgets every failure under these keys (a successful sign-in clears its account's). */
  abstract clear(keys: string[]): Promise<void>;
  /** Deletes failures at or before `before`; returns how many. */
  abstract purgeBefore(before: Date): Promise<number>;
}

export type SignInReservation =
  /** One failure recorded under each key; `ids` name them for `release`. */
  | { reserved: true; ids: string[] }
  /** Some key is at its limit: nothing recorded; each key's failures later than `since`, oldest first (keys without any absent). */
  | { reserved: false; failures: Map<string, Date[]> };
