/** A person who signs in at the authorization server; the `sub` of the tokens issued for them is `id`. */
export interface User {
  /** uuid */
  id: string;
  /** Unique, compared case-insensitively. */
  username: string;
  /** Self-describing hash (see PasswordHasher). */
  passwordHash: string;
  disabledAt: Date | null;
  createdAt: Date;
}
