import { randomUUID } from 'node:crypto';
import type { Consent, RefreshToken, User } from '@tessera/oauth-core';
import { aClient, someClaims } from '../fixtures.js';
import type { ContractPorts, MakePorts } from './contract-ports.js';
import { aUser } from './user.repository.contract.js';

/** The behaviour every ConsentRepository shares; `makePorts` returns empty stores. */
export function consentRepositoryContract(
  name: string,
  makePorts: MakePorts<'consents' | 'users' | 'clients' | 'refreshTokens' | 'revocations'>,
): void {
  describe(`${name}: ConsentRepository contract`, () => {
    let consents: ContractPorts['consents'];
    let refreshTokens: ContractPorts['refreshTokens'];
    let revocations: ContractPorts['revocations'];
    let user: User;
    let other: User;
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
      ({ consents, refreshTokens, revocations } = ports);
      [user, other] = [aUser(), aUser()];
      await ports.users.create(user);
      await ports.users.create(other);
      const [client, otherClient] = [aClient(), aClient()];
      await ports.clients.create(client);
      await ports.clients.create(otherClient);
      [clientId, otherClientId] = [client.clientId, otherClient.clientId];
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

    describe('revoke', () => {
      const at = new Date('2026-01-02T00:00:00.250Z');
      const before = Math.floor(at.getTime() / 1000); // issued in the same second: revoked too
      const after = before + 1;
      const aRefreshToken = (subject: string, client: string): RefreshToken => {
        const grantId = randomUUID();
        return {
          familyId: grantId,
          clientId: client,
          subject,
          scope: ['read'],
          audience: [],
          grantId,
          issuedAt: grantedAt,
          familyIssuedAt: grantedAt,
          expiresAt: new Date('2026-02-01T00:00:00.000Z'),
        };
      };
      /** The user's and the other user's consents and refresh tokens at both clients, refresh tokens hashed as `user@client`. */
      beforeEach(async () => {
        for (const u of [user, other]) {
          for (const c of [clientId, otherClientId]) {
            await consents.grant(aConsent({ userId: u.id, clientId: c }));
            await refreshTokens.insert(`${u.id}@${c}`, aRefreshToken(u.id, c));
          }
        }
      });
      const revokedAt = async (u: User, c: string) => (await refreshTokens.findByHash(`${u.id}@${c}`))?.revokedAt;
      const isRevoked = (u: User, c: string, iat: number) => revocations.isRevoked(someClaims({ clientId: c, sub: u.id, iat }));

      it("takes back a user's consent, refresh tokens and access tokens at one client, and nothing else", async () => {
        expect(await consents.revoke(user.id, clientId, at)).toBe(1);
        expect(await consents.find(user.id, clientId)).toBeNull();
        expect(await consents.find(user.id, otherClientId)).toEqual(aConsent({ clientId: otherClientId }));
        expect(await consents.find(other.id, clientId)).toEqual(aConsent({ userId: other.id }));

        expect(await revokedAt(user, clientId)).toEqual(at);
        expect(await revokedAt(user, otherClientId)).toBeNull();
        expect(await revokedAt(other, clientId)).toBeNull();

        expect(await isRevoked(user, clientId, before)).toBe(true);
        expect(await isRevoked(user, clientId, after)).toBe(false);
        expect(await isRevoked(user, otherClientId, before)).toBe(false);
        expect(await isRevoked(other, clientId, before)).toBe(false);

        expect(await consents.revoke(user.id, clientId, at)).toBe(0); // nothing left to forget
      });

      it("takes back a user's consents, refresh tokens and access tokens at every client when no client is named", async () => {
        expect(await consents.revoke(user.id, null, at)).toBe(2);
        for (const c of [clientId, otherClientId]) {
          expect(await consents.find(user.id, c)).toBeNull();
          expect(await consents.find(other.id, c)).toEqual(aConsent({ userId: other.id, clientId: c }));
          expect(await revokedAt(user, c)).toEqual(at);
          expect(await revokedAt(other, c)).toBeNull();
          expect(await isRevoked(user, c, before)).toBe(true);
          expect(await isRevoked(user, c, after)).toBe(false);
          expect(await isRevoked(other, c, before)).toBe(false);
        }
      });

      it('keeps the date a refresh token was revoked at first', async () => {
        await consents.revoke(user.id, clientId, at);
        await consents.revoke(user.id, null, new Date('2026-01-03T00:00:00.000Z'));
        expect(await revokedAt(user, clientId)).toEqual(at);
      });
    });
  });
}
