import type { Session } from '../domain/session.js';
import type { User } from '../domain/user.js';

/** Sign-in sessions, stored under the SHA-256 of the cookie's value (never in clear). */
export abstract class SessionRepository {
  abstract create(tokenHash: string, session: Session): Promise<void>;
  /** The session with this hash when it has not expired at `now` and its user exists and is enabled, with that user; else null. */
  abstract findActive(tokenHash: string, now: Date): Promise<{ session: Session; user: User } | null>;
  /** Ends the session (sign-out); unknown hashes are ignored. */
  abstract delete(tokenHash: string): Promise<void>;
  /** Deletes the sessions expired at `now`; returns how many. */
  abstract purgeExpired(now: Date): Promise<number>;
}
