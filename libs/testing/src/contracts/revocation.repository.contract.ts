import { randomUUID } from 'node:crypto';
import { someClaims } from '../fixtures.js';
import type { ContractPorts, MakePorts } from './contract-ports.js';

/** The behaviour every RevocationRepository shares; `makePorts` returns empty stores. */
export function revocationRepositoryContract(name: string, makePorts: MakePorts<'revocations' | 'markIssuedBefore'>): void {
  describe(`${name}: RevocationRepository contract`, () => {
    let revocations: ContractPorts['revocations'];
    let markIssuedBefore: ContractPorts['markIssuedBefore'];
    beforeEach(async () => ({ revocations, markIssuedBefore } = await makePorts()));

    const expiresAt = new Date('2026-01-01T01:00:00Z');
    const at = new Date('2026-01-01T00:30:00Z');
    const epoch = (iso: string) => Math.floor(new Date(iso).getTime() / 1000);

    it('knows no revocation at first', async () => {
      expect(await revocations.isRevoked(someClaims())).toBe(false);
    });

    it('revokes a token by jti, and only that one', async () => {
      const claims = someClaims({ format: 'jwt' });
      await revocations.revokeToken(claims.jti, claims.clientId, expiresAt, at);
      expect(await revocations.isRevoked(claims)).toBe(true);
      expect(await revocations.isRevoked(someClaims({ clientId: claims.clientId, sub: claims.sub }))).toBe(false);
    });

    it('revokes a jti idempotently, also concurrently', async () => {
      const claims = someClaims();
      await revocations.revokeToken(claims.jti, claims.clientId, expiresAt, at);
      await revocations.revokeToken(claims.jti, claims.clientId, expiresAt, new Date('2026-01-01T00:40:00Z'));
      const other = someClaims();
      await Promise.all([1, 2, 3].map(() => revocations.revokeToken(other.jti, other.clientId, expiresAt, at)));
      expect(await revocations.isRevoked(claims)).toBe(true);
      expect(await revocations.isRevoked(other)).toBe(true);
    });

    it('applies a client-wide issued-before mark to tokens issued strictly before it', async () => {
      await markIssuedBefore({ clientId: 'client-a', issuedBefore: new Date('2026-05-01T12:00:00Z') });
      const token = (iso: string, clientId = 'client-a') => someClaims({ clientId, sub: randomUUID(), grantId: randomUUID(), iat: epoch(iso) });
      expect(await revocations.isRevoked(token('2026-05-01T11:59:59Z'))).toBe(true);
      expect(await revocations.isRevoked(token('2026-05-01T12:00:00Z'))).toBe(false);
      expect(await revocations.isRevoked(token('2026-05-01T11:00:00Z', 'client-b'))).toBe(false);
    });

    it('narrows a mark to a subject', async () => {
      await markIssuedBefore({ clientId: 'client-a', subject: 'alice', issuedBefore: new Date('2026-05-01T12:00:00Z') });
      const iat = epoch('2026-05-01T11:00:00Z');
      expect(await revocations.isRevoked(someClaims({ clientId: 'client-a', sub: 'alice', iat }))).toBe(true);
      expect(await revocations.isRevoked(someClaims({ clientId: 'client-a', sub: 'bob', iat }))).toBe(false);
      expect(await revocations.isRevoked(someClaims({ clientId: 'client-b', sub: 'alice', iat }))).toBe(false);
    });

    it('narrows a mark to a grant', async () => {
      const grantId = randomUUID();
      await markIssuedBefore({ clientId: 'client-a', grantId, issuedBefore: new Date('2026-05-01T12:00:00Z') });
      const iat = epoch('2026-05-01T11:00:00Z');
      expect(await revocations.isRevoked(someClaims({ clientId: 'client-a', grantId, iat }))).toBe(true);
      expect(await revocations.isRevoked(someClaims({ clientId: 'client-a', grantId: randomUUID(), iat }))).toBe(false);
      expect(await revocations.isRevoked(someClaims({ clientId: 'client-a', grantId: null, iat }))).toBe(false);
      const { grantId: _, ...withoutGrant } = someClaims({ clientId: 'client-a', iat });
      expect(await revocations.isRevoked(withoutGrant)).toBe(false);
      expect(await revocations.isRevoked(someClaims({ clientId: 'client-a', grantId: 'not-a-uuid', iat }))).toBe(false);
    });

    it('narrows a mark to a subject and a grant together', async () => {
      const grantId = randomUUID();
      await markIssuedBefore({ clientId: 'client-a', subject: 'alice', grantId, issuedBefore: new Date('2026-05-01T12:00:00Z') });
      const iat = epoch('2026-05-01T11:00:00Z');
      expect(await revocations.isRevoked(someClaims({ clientId: 'client-a', sub: 'alice', grantId, iat }))).toBe(true);
      expect(await revocations.isRevoked(someClaims({ clientId: 'client-a', sub: 'bob', grantId, iat }))).toBe(false);
      expect(await revocations.isRevoked(someClaims({ clientId: 'client-a', sub: 'alice', grantId: randomUUID(), iat }))).toBe(false);
    });
  });
}
