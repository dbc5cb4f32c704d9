// Signing in at the authorization server: sessions, and the throttling of failed attempts
// (per account and per address; RFC 9700 §4.7 brute force, OWASP authentication guidance).
import { randomUUID } from 'node:crypto';
import type { Session } from '../domain/session.js';
import type { User } from '../domain/user.js';
import type { Clock } from '../ports/clock.port.js';
import type { RandomSource } from '../ports/random.port.js';
import { SessionRepository } from '../ports/session.repository.js';
import { SignInFailureRepository } from '../ports/sign-in-failure.repository.js';
import { hashToken } from '../tokens/token-hash.js';
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
}

export type SignInResult =
  | { kind: 'signed-in'; token: string; session: Session; user: User }
  /** Wrong username or password, or a disabled user: the same answer for all three. */
  | { kind: 'refused' }
  | { kind: 'throttled'; retryAfterSeconds: number };

export class SignIn {
  constructor(
    private readonly directory: UserDirectory,
    private readonly sessions: SessionRepository,
    private readonly failures: SignInFailureRepository,
    private readonly random: RandomSource,
    private readonly clock: Clock,
    private readonly policy: SignInPolicy,
  ) {}

  async signIn(username: string, password: string, address: string): Promise<SignInResult> {
    const account = accountKey(username);
    const keys = [account, addressKey(address)];
    const now = this.clock.now();
    // A throttled attempt is neither checked nor counted: the password is not even hashed.
    const retryAfterSeconds = await this.retryAfter(account, addressKey(address), now);
    if (retryAfterSeconds > 0) return { kind: 'throttled', retryAfterSeconds };

    const user = await this.directory.authenticate(username, password);
    if (!user) {
      await this.failures.record(keys, now);
      return { kind: 'refused' };
    }
    await this.failures.clear([account]);
    const token = SESSION_TOKEN_PREFIX + this.random.token(32);
    const session: Session = { id: randomUUID(), userId: user.id, createdAt: now, expiresAt: new Date(now.getTime() + this.policy.sessionTtl * 1000) };
    await this.sessions.create(hashToken(token), session);
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
  private async retryAfter(account: string, address: string, now: Date): Promise<number> {
    const windowMs = this.policy.windowSeconds * 1000;
    const recent = await this.failures.since([account, address], new Date(now.getTime() - windowMs));
    const waits = [
      [account, this.policy.maxFailuresPerAccount],
      [address, this.policy.maxFailuresPerAddress],
    ].map(([key, limit]) => {
      const times = recent.get(key as string) ?? [];
      if (times.length < (limit as number)) return 0;
      // Allowed again once enough of the oldest failures have left the window.
      const freeing = times[times.length - (limit as number)];
      return Math.ceil((freeing.getTime() + windowMs - now.getTime()) / 1000);
    });
    return Math.max(0, ...waits);
  }
}

/** Usernames compare case-insensitively; the key is hashed, so the table holds no usernames, and unknown ones are throttled alike. */
function accountKey(username: string): string {
  return `user:${hashToken(username.toLowerCase())}`;
}

function addressKey(address: string): string {
  return `ip:${address}`;
}
