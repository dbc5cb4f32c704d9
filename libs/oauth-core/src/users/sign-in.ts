// Signing in at the authorization server: sessions, the throttling of failed attempts (per account
// and per address; RFC 9700 §4.7 brute force, OWASP authentication guidance), and a bound on the
// password checks running at once (each one is a memory-hard hash).
import { randomUUID } from 'node:crypto';
import type { Session } from '../domain/session.js';
import type { User } from '../domain/user.js';
import { OAuthError } from '../errors/oauth-error.js';
import { NoAuditLog, type AuditLog } from '../ports/audit-log.port.js';
import type { Clock } from '../ports/clock.port.js';
import type { RandomSource } from '../ports/random.port.js';
import { SessionRepository } from '../ports/session.repository.js';
import { SignInFailureRepository } from '../ports/sign-in-failure.repository.js';
import { hashToken } from '../tokens/token-hash.js';
import { ConcurrencyLimit } from './concurrency-limit.js';
import type { UserDirectory } from './user-directory.js';

export const SESSION_TOKEN_PREFIX = 'tsr_ss_';
const SESSION_TOKEN_SHAPE = /^tsr_ss_[A-Za-z0-9_-]{43}$/;

export interface SignInPolicy {
  /** Lifetime of a session, seconds. */
  sessionTtl: number;
  /** Failed sign-ins allowed per account, and per address, within `windowSeconds`. */
  maxFailuresPerAccount: number;
  maxFailuresPerAddress: number;
  windowSeconds: number;
  /** Password checks (scrypt, 128 MiB each by default) running at once in this process, and waiting for a turn; past both, 503. */
  maxConcurrentHashes: number;
  maxQueuedHashes: number;
}

export type SignInResult =
  | { kind: 'signed-in'; token: string; session: Session; user: User }
  /** Wrong username or password, or a disabled user: the same answer for all three. */
  | { kind: 'refused' }
  | { kind: 'throttled'; retryAfterSeconds: number };

export class SignIn {
  private readonly checks: ConcurrencyLimit;

  constructor(
    private readonly directory: UserDirectory,
    private readonly sessions: SessionRepository,
    private readonly failures: SignInFailureRepository,
    private readonly random: RandomSource,
    private readonly clock: Clock,
    private readonly policy: SignInPolicy,
    private readonly audit: AuditLog = new NoAuditLog(),
  ) {
    this.checks = new ConcurrencyLimit(policy.maxConcurrentHashes, policy.maxQueuedHashes);
  }

  /**
   * Throws temporarily_unavailable, checking nothing and counting nothing, when as many passwords
   * are being checked as the policy allows and as many wait for their turn.
   */
  async signIn(username: string, password: string, address: string): Promise<SignInResult> {
    const turn = this.checks.enter();
    if (!turn) {
      throw OAuthError.temporarilyUnavailable(new Error(`sign-in busy: ${this.checks.running} password checks running, ${this.checks.waiting} waiting`));
    }
    const leave = await turn;
    let user: User | null;
    try {
      const account = accountKey(username);
      const now = this.clock.now();
      // The attempt is counted as a failure before its password is hashed, atomically across instances:
      // concurrent attempts cannot all pass the check. A throttled attempt is neither checked nor counted.
      const reservation = await this.failures.reserve(
        [
          { key: account, limit: this.policy.maxFailuresPerAccount },
          { key: addressKey(address), limit: this.policy.maxFailuresPerAddress },
        ],
        new Date(now.getTime() - this.policy.windowSeconds * 1000),
        now,
      );
      if (!reservation.reserved) {
        const retryAfterSeconds = this.retryAfter(reservation.failures, account, addressKey(address), now);
        this.audit.record({ event: 'sign_in.throttled', address, retryAfterSeconds });
        return { kind: 'throttled', retryAfterSeconds };
      }
      let known: User | null;
      try {
        ({ user, account: known } = await this.directory.check(username, password));
      } catch (error) {
        // Not checked after all (the database failed, say): not a failure either.
        await this.failures.release(reservation).catch(() => {});
        throw error;
      }
      if (!user) {
        // The name only when it is an account's: a password typed into the username field never reaches the log.
        this.audit.record({ event: 'sign_in.failed', address, ...(known ? { userId: known.id, username: known.username } : {}) });
        return { kind: 'refused' }; // the reservation stays: it is the failure
      }
      await this.failures.release(reservation);
      await this.failures.clear([account]);
    } finally {
      leave();
    }
    const now = this.clock.now();
    const token = SESSION_TOKEN_PREFIX + this.random.token(32);
    const session: Session = { id: randomUUID(), userId: user.id, createdAt: now, expiresAt: new Date(now.getTime() + this.policy.sessionTtl * 1000) };
    await this.sessions.create(hashToken(token), session);
    this.audit.record({ event: 'sign_in.succeeded', userId: user.id, username: user.username, address });
    return { kind: 'signed-in', token, session, user };
  }

  /** The signed-in user behind a session cookie's value, or null (unknown, expired, or the user disabled). */
  async current(token: string | undefined): Promise<{ session: Session; user: User } | null> {
    if (token === undefined || !SESSION_TOKEN_SHAPE.test(token)) return null;
    return this.sessions.findActive(hashToken(token), this.clock.now());
  }

  async signOut(token: string | undefined): Promise<void> {
    if (token !== undefined && SESSION_TOKEN_SHAPE.test(token)) await this.sessions.delete(hashToken(token));
  }

  /** Seconds until neither the account nor the address is over its budget of failures in the sliding window. */
  private retryAfter(recent: Map<string, Date[]>, account: string, address: string, now: Date): number {
    const windowMs = this.policy.windowSeconds * 1000;
    const waits = (
      [
        [account, this.policy.maxFailuresPerAccount],
        [address, this.policy.maxFailuresPerAddress],
      ] as const
    ).map(([key, limit]) => {
      const times = recent.get(key) ?? [];
      if (times.length < limit) return 0;
      // Allowed again once enough of the oldest failures have left the window.
      const freeing = times[times.length - limit];
      return Math.ceil((freeing.getTime() + windowMs - now.getTime()) / 1000);
    });
    // At least a second: the refusal itself says the attempt must wait.
    return Math.max(1, ...waits);
  }
}

/** Usernames compare case-insensitively; the key is hashed, so the table holds no usernames, and unknown ones are throttled alike. */
function accountKey(username: string): string {
  return `user:${hashToken(username.toLowerCase())}`;
}

function addressKey(address: string): string {
  return `ip:${address}`;
}
