import { ConsentRepository, type Consent } from '@tessera/oauth-core';

/** Scopes and resources are kept as sets: distinct, sorted. */
export class InMemoryConsentRepository extends ConsentRepository {
  /** By JSON of [userId, clientId]. */
  readonly consents = new Map<string, Consent>();

  async find(userId: string, clientId: string): Promise<Consent | null> {
    const c = this.consents.get(JSON.stringify([userId, clientId]));
    return c ? structuredClone(c) : null;
  }

  async grant(consent: Consent): Promise<void> {
    const key = JSON.stringify([consent.userId, consent.clientId]);
    const stored = this.consents.get(key);
    this.consents.set(key, {
      ...structuredClone(consent),
      scopes: asSet([...(stored?.scopes ?? []), ...consent.scopes]),
      resources: asSet([...(stored?.resources ?? []), ...consent.resources]),
    });
  }
}

const asSet = (values: string[]): string[] => [...new Set(values)].sort();
