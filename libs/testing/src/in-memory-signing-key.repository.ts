import { SigningKeyRepository, type SigningKeyRecord } from '@tessera/oauth-core';
import type { InMemoryRevocationRepository } from './in-memory-revocation.repository.js';

export class InMemorySigningKeyRepository extends SigningKeyRepository {
  readonly keys: SigningKeyRecord[] = [];

  constructor(private readonly revocations?: InMemoryRevocationRepository) {
    super();
  }

  async listPublished(now: Date): Promise<SigningKeyRecord[]> {
    return this.keys
      .filter((k) => k.status === 'active' || (k.publishUntil !== null && k.publishUntil > now))
      .map((k) => structuredClone(k));
  }
  async insertFirst(key: SigningKeyRecord): Promise<boolean> {
    if (this.keys.some((k) => k.status === 'active')) return false;
    this.keys.push(structuredClone({ ...key, status: 'active' as const }));
    return true;
  }
  async rotate(key: SigningKeyRecord, at: Date, publishUntil: Date, options: { revokeSigned?: boolean } = {}): Promise<void> {
    for (const k of this.keys) {
      if (k.status !== 'active') continue;
      Object.assign(k, { status: 'retired', retiredAt: at, publishUntil: options.revokeSigned ? at : publishUntil, privateKey: null });
      if (options.revokeSigned) this.revocations?.revokeKey(k.kid, publishUntil, at);
    }
    this.keys.push(structuredClone({ ...key, status: 'active' as const }));
  }
  async rotateIfDue(key: SigningKeyRecord, at: Date, publishUntil: Date, dueAt: Date): Promise<boolean> {
    if (this.keys.some((k) => k.createdAt > dueAt)) return false;
    await this.rotate(key, at, publishUntil);
    return true;
  }
  async replacePrivateKey(kid: string, expected: string, next: string): Promise<boolean> {
    const key = this.keys.find((k) => k.kid === kid && k.privateKey === expected);
    if (!key) return false;
    key.privateKey = next;
    return true;
  }
}
