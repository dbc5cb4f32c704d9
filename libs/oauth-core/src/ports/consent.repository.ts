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
  /**
   * Takes back what the user granted the client (every client when `clientId`
   * is null), in one transaction: forgets the remembered consent (the next
   * authorization asks again), revokes the user's refresh tokens there, and
   * records an issued-before mark for the user at the client (at every client)
   * so their access tokens already issued, opaque or JWT, stop working at once,
   * through the revocation feed too. Returns how many consents were forgotten.
   */
  abstract revoke(userId: string, clientId: string | null, at: Date): Promise<number>;
}
