import { SessionRepository, type Session, type User } from '@tessera/oauth-core';
import type { InMemoryUserRepository } from './in-memory-user.repository.js';

export class InMemorySessionRepository extends SessionRepository {
  /** By token hash. */
  readonly sessions = new Map<string, Session>();

  /** Reads `users` to refuse a disabled user's sessions, and ends them when `users` disables their user. */
  constructor(private readonly users: InMemoryUserRepository) {
    super();
    users.endSessions = (userId) => this.deleteWhere((s) => s.userId === userId);
  }

  async create(tokenHash: string, session: Session): Promise<void> {
    if (this.sessions.has(tokenHash) || [...this.sessions.values()].some((s) => s.id === session.id)) throw new Error('duplicate session');
    this.sessions.set(tokenHash, structuredClone(session));
  }

  async findActive(tokenHash: string, now: Date): Promise<{ session: Session; user: User } | null> {
    const session = this.sessions.get(tokenHash);
    if (!session || session.expiresAt <= now) return null;
    const user = await this.users.findById(session.userId);
    if (!user || user.disabledAt) return null;
    return { session: structuredClone(session), user };
  }

  async delete(tokenHash: string): Promise<void> {
    this.sessions.delete(tokenHash);
  }

  async purgeExpired(now: Date): Promise<number> {
    return this.deleteWhere((s) => s.expiresAt <= now);
  }

  private deleteWhere(matches: (session: Session) => boolean): number {
    let deleted = 0;
    for (const [hash, session] of this.sessions) {
      if (matches(session)) {
        this.sessions.delete(hash);
        deleted += 1;
      }
    }
    return deleted;
  }
}
