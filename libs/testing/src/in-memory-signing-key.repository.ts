import { SigningKeyRepository, type SigningKeyRecord } from '@tessera/oauth-core';

export class InMemorySigningKeyRepository extends SigningKeyRepository {
  readonly keys: SigningKeyRecord[] = [];

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
  async rotate(key: SigningKeyRecord, at: Date, publishUntil: Date): Promise<void> {
    for (const k of this.keys) {
      if (k.status === 'active') Object.assign(k, { status: 'retired', retiredAt: at, publishUntil });
    }
    this.keys.push(structuredClone({ ...key, status: 'active' as const }));
  }
}
