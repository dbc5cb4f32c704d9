/** Hashes user-chosen passwords with a slow KDF; the hash names its parameters, so they can change. */
export abstract class PasswordHasher {
  abstract hash(password: string): Promise<string>;
  /** Constant-time; false for a wrong password or a malformed hash. */
  abstract verify(password: string, hash: string): Promise<boolean>;
  /** True when `hash` was made with weaker parameters than the current ones (rehash at the next sign-in). */
  abstract needsRehash(hash: string): boolean;
}
