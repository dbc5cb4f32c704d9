import type { User } from '../domain/user.js';

export abstract class UserRepository {
  abstract findById(id: string): Promise<User | null>;
  /** Case-insensitive. */
  abstract findByUsername(username: string): Promise<User | null>;
  /** Throws when the username is taken (whatever its case). */
  abstract create(user: User): Promise<void>;
  abstract list(): Promise<User[]>;
  /** False when the user is unknown. */
  abstract setPasswordHash(id: string, passwordHash: string): Promise<boolean>;
  /**
   * Disables the user and, in the same transaction, revokes every token issued
   * to them (an issued-before mark for the subject across clients, and their
   * refresh tokens). Returns the updated user, or null when unknown.
   */
  abstract disable(id: string, at: Date): Promise<User | null>;
  /**
   * Enables a disabled user again. What `disable` revoked stays revoked (the issued-before mark remains).
   * Returns the updated user, or null when unknown.
   */
  abstract enable(id: string): Promise<User | null>;
}
