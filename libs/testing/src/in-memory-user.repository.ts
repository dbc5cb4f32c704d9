import { issuedBeforeNow, UserRepository, type User } from '@tessera/oauth-core';
import type { InMemoryRefreshTokenRepository } from './in-memory-refresh-token.repository.js';
import type { InMemoryRevocationRepository } from './in-memory-revocation.repository.js';

export class InMemoryUserRepository extends UserRepository {
  readonly users = new Map<string, User>();

  /** Ends every session of a user (set by InMemorySessionRepository). */
  endSessions: (userId: string) => void = () => {};

  constructor(
    private readonly revocations?: InMemoryRevocationRepository,
    private readonly refreshTokens?: InMemoryRefreshTokenRepository,
  ) {
    super();
    if (refreshTokens) refreshTokens.users = this;
  }

  async findById(id: string): Promise<User | null> {
    const u = this.users.get(id);
    return u ? structuredClone(u) : null;
  }

  async findByUsername(username: string): Promise<User | null> {
    const key = username.toLowerCase();
    const u = [...this.users.values()].find((x) => x.username.toLowerCase() === key);
    return u ? structuredClone(u) : null;
  }

  async create(user: User): Promise<void> {
    if (this.users.has(user.id) || (await this.findByUsername(user.username))) throw new Error(`duplicate user ${user.username}`);
    this.users.set(user.id, structuredClone(user));
  }

  async list(): Promise<User[]> {
    return [...this.users.values()].sort((a, b) => a.username.toLowerCase().localeCompare(b.username.toLowerCase())).map((u) => structuredClone(u));
  }

  async setPasswordHash(id: string, passwordHash: string): Promise<boolean> {
    const u = this.users.get(id);
    if (!u) return false;
    u.passwordHash = passwordHash;
    return true;
  }

  async disable(id: string, at: Date): Promise<User | null> {
    const u = this.users.get(id);
    if (!u) return null;
    u.disabledAt = at;
    this.endSessions(id);
    this.refreshTokens?.revokeSubject(id, at);
    await this.revocations?.revokeSubject(id, issuedBeforeNow(at));
    return structuredClone(u);
  }

  async enable(id: string): Promise<User | null> {
    const u = this.users.get(id);
    if (!u) return null;
    u.disabledAt = null;
    return structuredClone(u);
  }
}
