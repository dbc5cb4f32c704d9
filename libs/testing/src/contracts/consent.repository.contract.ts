import { randomUUID } from 'node:crypto';
import type { Consent, User } from '@tessera/oauth-core';
import { aClient } from '../fixtures.js';
import type { ContractPorts, MakePorts } from './contract-ports.js';
import { aUser } from './user.repository.contract.js';

/** The behaviour every ConsentRepository shares; `makePorts` returns empty stores. */
export function consentRepositoryContract(name: string, makePorts: MakePorts<'consents' | 'users' | 'clients'>): void {
  describe(`${name}: ConsentRepository contract`, () => {
    let consents: ContractPorts['consents'];
    let user: User;
    let clientId: string;
    let otherClientId: string;
    const grantedAt = new Date('2026-01-01T00:00:00.000Z');
    const aConsent = (overrides: Partial<Consent> = {}): Consent => ({
      userId: user.id,
      clientId,
      scopes: ['read'],
      resources: ['https://api.example'],
      grantedAt,
      ...overrides,
    });

    beforeEach(async () => {
      const ports = await makePorts();
      consents = ports.consents;
      user = aUser();
      await ports.users.create(user);
      const [client, other] = [aClient(), aClient()];
      await ports.clients.create(client);
      await ports.clients.create(other);
      [clientId, otherClientId] = [client.clientId, other.clientId];
    });

    it('answers null before any grant', async () => {
      expect(await consents.find(user.id, clientId)).toBeNull();
      expect(await consents.find(randomUUID(), clientId)).toBeNull();
    });

    it('gives back a granted consent, its scopes and resources distinct and sorted', async () => {
      await consents.grant(aConsent({ scopes: ['write', 'read', 'write'], resources: ['https://b.example', 'https://a.example'] }));
      expect(await consents.find(user.id, clientId)).toEqual(
        aConsent({ scopes: ['read', 'write'], resources: ['https://a.example', 'https://b.example'] }),
      );
    });

    it('merges a later grant into the union of both, without duplicates, granted at the later time', async () => {
      await consents.grant(aConsent({ scopes: ['read', 'profile'], resources: ['https://a.example'] }));
      const later = new Date('2026-01-02T00:00:00.000Z');
      await consents.grant(aConsent({ scopes: ['write', 'read'], resources: ['https://b.example', 'https://a.example'], grantedAt: later }));
      const merged = aConsent({ scopes: ['profile', 'read', 'write'], resources: ['https://a.example', 'https://b.example'], grantedAt: later });
      expect(await consents.find(user.id, clientId)).toEqual(merged);

      const latest = new Date('2026-01-03T00:00:00.000Z');
      await consents.grant(aConsent({ scopes: ['read'], resources: [], grantedAt: latest })); // less than before: nothing is taken back
      expect(await consents.find(user.id, clientId)).toEqual({ ...merged, grantedAt: latest });
    });

    it('keeps every scope of concurrent grants', async () => {
      await Promise.all(['a', 'b', 'c', 'd'].map((scope) => consents.grant(aConsent({ scopes: [scope], resources: [] }))));
      expect((await consents.find(user.id, clientId))?.scopes).toEqual(['a', 'b', 'c', 'd']);
    });

    it('keeps the consents to two clients apart', async () => {
      const toClient = aConsent({ scopes: ['read'] });
      const toOther = aConsent({ clientId: otherClientId, scopes: ['write'], resources: [] });
      await consents.grant(toClient);
      await consents.grant(toOther);
      expect(await consents.find(user.id, clientId)).toEqual(toClient);
      expect(await consents.find(user.id, otherClientId)).toEqual(toOther);
    });
  });
}
