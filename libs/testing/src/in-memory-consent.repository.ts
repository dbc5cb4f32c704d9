import { ConsentRepository, issuedBeforeNow, type Consent } from '@tessera/oauth-core';
import type { InMemoryRefreshTokenRepository } from './in-memory-refresh-token.repository.js';
import type { InMemoryRevocationRepository } from './in-memory-revocation.repository.js';

/** Scopes and resources are kept as sets: distinct, sorted. */
export class InMemoryConsentRepository extends ConsentRepository {
  /** By JSON of [userId, clientId]. */
  readonly consents = new Map<string, Consent>();

  /** Without `revocations` and `refreshTokens`, `revoke` only forgets consents. */
  constructor(
    private readonly revocations?: InMemoryRevocationRepository,
    private readonly refreshTokens?: InMemoryRefreshTokenRepository,
  ) {
    super();
  }

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

  async revoke(userId: string, clientId: string | null, at: Date): Promise<number> {
    let deleted = 0;
    for (const [key, c] of this.consents) {
      if (c.userId === userId && (clientId === null || c.clientId === clientId)) deleted += Number(this.consents.delete(key));
    }
    this.refreshTokens?.revokeSubject(userId, at, clientId ?? undefined);
    const issuedBefore = issuedBeforeNow(at);
    if (clientId === null) await this.revocations?.revokeSubject(userId, issuedBefore);
    else this.revocations?.markIssuedBefore({ clientId, subject: userId, issuedBefore });
    return deleted;
  }
}

const asSet = (values: string[]): string[] => [...new Set(values)].sort();
