export type SigningAlgorithm = 'ES256' | 'EdDSA' | 'RS256';
export const SIGNING_ALGORITHMS: readonly SigningAlgorithm[] = ['ES256', 'EdDSA', 'RS256'];

export interface SigningKeyRecord {
  kid: string;
  alg: SigningAlgorithm;
  /** Public JWK (with kid, alg, use). */
  publicJwk: Record<string, unknown>;
  /**
   * Private JWK as JSON, or an encrypted envelope of it (see libs/tokens key-encryption). Null once the key is
   * retired: its private half is destroyed, so it can never sign again.
   */
  privateKey: string | null;
  status: 'active' | 'retired';
  createdAt: Date;
  retiredAt: Date | null;
  /** Retired keys stay in the JWKS until this instant (the last token they signed has expired). */
  publishUntil: Date | null;
}

export abstract class SigningKeyRepository {
  /** The active key and the retired keys still published at `now`. */
  abstract listPublished(now: Date): Promise<SigningKeyRecord[]>;
  /** Inserts `key` as the active key unless one already exists (concurrent first starts). True when inserted. */
  abstract insertFirst(key: SigningKeyRecord): Promise<boolean>;
  /**
   * In one transaction: retire the active key (published until `publishUntil`, its private key destroyed) and make `key` active.
   * With `revokeSigned` (a key that may be compromised), the retired key is unpublished at once and a
   * revocation of every token it signed is appended to the revocation log, kept until `publishUntil`.
   */
  abstract rotate(key: SigningKeyRecord, at: Date, publishUntil: Date, options?: { revokeSigned?: boolean }): Promise<void>;
  /**
   * Scheduled rotation, once across every process sharing the storage: what `rotate` does, but only when no other
   * process is rotating at this moment (it skips rather than waits) and the newest key was created at or before
   * `dueAt` (checked in the same transaction, so a rotation another process just committed is seen). True when rotated.
   */
  abstract rotateIfDue(key: SigningKeyRecord, at: Date, publishUntil: Date, dueAt: Date): Promise<boolean>;
  /** Stores `next` as the key's private key (re-encrypted) only while it is still `expected`. True when replaced. */
  abstract replacePrivateKey(kid: string, expected: string, next: string): Promise<boolean>;
}
