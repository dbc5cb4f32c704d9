import type { Consent } from '../domain/consent.js';

/** Remembered consents, one per user and client. */
export abstract class ConsentRepository {
  abstract find(userId: string, clientId: string): Promise<Consent | null>;
  /**
   * Remembers a consent. What the user already granted this client is kept:
   * the stored scopes and resources become the union of both, and
   * `grantedAt` the new one's.
   */
  abstract grant(consent: Consent): Promise<void>;
}
