// Users, as the operator manages them (CLI) and as sign-in will check them.
import { randomUUID } from 'node:crypto';
import type { User } from '../domain/user.js';
import { OAuthError } from '../errors/oauth-error.js';
import { NoAuditLog, type AuditLog } from '../ports/audit-log.port.js';
import type { ClientRepository } from '../ports/client.repository.js';
import type { Clock } from '../ports/clock.port.js';
import type { ConsentRepository } from '../ports/consent.repository.js';
import { PasswordHasher } from '../ports/password-hasher.port.js';
import { UserRepository } from '../ports/user.repository.js';

/** Letters, digits and `._@+-`, 1-255 characters (an email address fits). */
const USERNAME = /^[A-Za-z0-9._@+-]{1,255}$/;
export const MIN_PASSWORD_LENGTH = 8;
export const MAX_PASSWORD_LENGTH = 1024;

export class UserDirectory {
  constructor(
    private readonly users: UserRepository,
    private readonly hasher: PasswordHasher,
    private readonly clock: Clock,
    /** What `revokeConsent` needs; sign-in does without. */
    private readonly grants?: { consents: ConsentRepository; clients: ClientRepository },
    private readonly audit: AuditLog = new NoAuditLog(),
  ) {}

  async create(username: string, password: string): Promise<User> {
    if (!USERNAME.test(username)) throw OAuthError.invalidRequest('username must be 1-255 letters, digits or ._@+-');
    checkPassword(password);
    if (await this.users.findByUsername(username)) throw OAuthError.invalidRequest(`username "${username}" is taken`);
    const user: User = { id: randomUUID(), username, passwordHash: await this.hasher.hash(password), disabledAt: null, createdAt: this.clock.now() };
    await this.users.create(user);
    this.audit.record({ event: 'user.created', userId: user.id, username });
    return user;
  }

  async setPassword(username: string, password: string): Promise<User> {
    checkPassword(password);
    const user = await this.require(username);
    const passwordHash = await this.hasher.hash(password);
    await this.users.setPasswordHash(user.id, passwordHash);
    this.audit.record({ event: 'user.changed', userId: user.id, username: user.username, change: 'password' });
    return { ...user, passwordHash };
  }

  /** The user can no longer sign in, and every token issued for them stops working. */
  async disable(username: string): Promise<{ user: User; wasDisabled: boolean }> {
    const user = await this.require(username);
    if (user.disabledAt) return { user, wasDisabled: true };
    const updated = await this.users.disable(user.id, this.clock.now());
    if (!updated) throw OAuthError.invalidRequest(`no user ${username}`);
    this.audit.record({ event: 'user.disabled', userId: user.id, username: user.username });
    return { user: updated, wasDisabled: false };
  }

  /** The user can sign in again; tokens revoked when they were disabled stay revoked. */
  async enable(username: string): Promise<{ user: User; wasEnabled: boolean }> {
    const user = await this.require(username);
    if (!user.disabledAt) return { user, wasEnabled: true };
    const updated = await this.users.enable(user.id);
    if (!updated) throw OAuthError.invalidRequest(`no user ${username}`);
    this.audit.record({ event: 'user.enabled', userId: user.id, username: user.username });
    return { user: updated, wasEnabled: false };
  }

  /**
   * Takes back what the user granted the client (every client when none is
   * named): the remembered consent, so the next authorization asks again,
   * their refresh tokens there, and the access tokens already issued to them
   * there. Returns how many remembered consents were forgotten.
   */
  async revokeConsent(username: string, clientId?: string): Promise<{ user: User; consentsRevoked: number }> {
    if (!this.grants) throw new Error('UserDirectory was built without consents and clients');
    const { consents, clients } = this.grants;
    const user = await this.require(username);
    if (clientId !== undefined && !(await clients.findById(clientId))) throw OAuthError.invalidRequest(`no client ${clientId}`);
    const consentsRevoked = await consents.revoke(user.id, clientId ?? null, this.clock.now());
    this.audit.record({ event: 'user.changed', userId: user.id, username: user.username, change: 'consent_revoked', clientId, consentsRevoked });
    return { user, consentsRevoked };
  }

  /** The enabled user with this username and password, or null (same answer whatever was wrong). */
  async authenticate(username: string, password: string): Promise<User | null> {
    return (await this.check(username, password)).user;
  }

  /** As `authenticate`, also naming the account a refused attempt was for, when the username is a known one (for the audit). */
  async check(username: string, password: string): Promise<{ user: User | null; account: User | null }> {
    const account = USERNAME.test(username) ? await this.users.findByUsername(username) : null;
    // Verify against a decoy when the user is unknown, so both cases cost the same time.
    const ok = await this.hasher.verify(password, account?.passwordHash ?? (await this.decoy()));
    if (!account || !ok || account.disabledAt) return { user: null, account };
    if (this.hasher.needsRehash(account.passwordHash)) await this.users.setPasswordHash(account.id, await this.hasher.hash(password));
    return { user: account, account };
  }

  list(): Promise<User[]> {
    return this.users.list();
  }

  private decoyHash?: Promise<string>;
  private decoy(): Promise<string> {
    // A failed attempt is not kept: the next sign-in of an unknown name tries again.
    this.decoyHash ??= this.hasher.hash('tessera-decoy-password').catch((error: unknown) => {
      this.decoyHash = undefined;
      throw error;
    });
    return this.decoyHash;
  }

  private async require(username: string): Promise<User> {
    const user = await this.users.findByUsername(username);
    if (!user) throw OAuthError.invalidRequest(`no user ${username}`);
    return user;
  }
}

function checkPassword(password: string): void {
  if (password.length < MIN_PASSWORD_LENGTH || password.length > MAX_PASSWORD_LENGTH) {
    throw OAuthError.invalidRequest(`password must be ${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH} characters`);
  }
}
