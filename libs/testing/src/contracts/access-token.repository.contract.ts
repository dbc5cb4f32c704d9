import { randomUUID } from 'node:crypto';
import { aClient, someClaims } from '../fixtures.js';
import type { ContractPorts, MakePorts } from './contract-ports.js';

/** The behaviour every (opaque) AccessTokenRepository shares; `makePorts` returns empty stores. */
export function accessTokenRepositoryContract(name: string, makePorts: MakePorts<'clients' | 'accessTokens' | 'revocations'>): void {
  describe(`${name}: AccessTokenRepository contract`, () => {
    let accessTokens: ContractPorts['accessTokens'];
    let revocations: ContractPorts['revocations'];
    let clientId: string;
    let hashSeq = 0;
    const aHash = () => `hash-${++hashSeq}-${'x'.repeat(40)}`;

    beforeEach(async () => {
      const ports = await makePorts();
      ({ accessTokens, revocations } = ports);
      const client = aClient();
      await ports.clients.create(client);
      clientId = client.clientId;
    });

    it('gives back the claims of a stored token, not revoked', async () => {
      const claims = someClaims({
        clientId,
        sub: 'alice@example.com',
        aud: ['https://api.example', 'https://other.example'],
        scope: ['read', 'write'],
        grantId: randomUUID(),
        iat: 1_780_000_000,
        exp: 1_780_003_600,
      });
      const hash = aHash();
      await accessTokens.insert(hash, claims);
      expect(await accessTokens.findByHash(hash)).toEqual({ claims, revokedAt: null });
    });

    it('gives back a token stored without a grant with grantId null', async () => {
      const { grantId: _, ...claims } = someClaims({ clientId });
      const hash = aHash();
      await accessTokens.insert(hash, claims);
      expect((await accessTokens.findByHash(hash))?.claims).toEqual({ ...claims, grantId: null });
    });

    it('returns null for an unknown hash', async () => {
      expect(await accessTokens.findByHash(aHash())).toBeNull();
    });

    it('refuses a second token with the same hash', async () => {
      const hash = aHash();
      await accessTokens.insert(hash, someClaims({ clientId }));
      await expect(accessTokens.insert(hash, someClaims({ clientId }))).rejects.toThrow();
    });

    it('revokes a token once: marks it, records its jti, and answers false the second time', async () => {
      const claims = someClaims({ clientId });
      const other = someClaims({ clientId });
      const hash = aHash();
      const otherHash = aHash();
      await accessTokens.insert(hash, claims);
      await accessTokens.insert(otherHash, other);
      const at = new Date('2026-01-01T00:10:00.250Z');

      expect(await revocations.isRevoked(claims)).toBe(false);
      expect(await accessTokens.revoke(hash, at)).toBe(true);
      expect(await accessTokens.findByHash(hash)).toEqual({ claims, revokedAt: at });
      expect(await revocations.isRevoked(claims)).toBe(true);

      expect(await accessTokens.revoke(hash, new Date('2026-01-01T00:20:00Z'))).toBe(false);
      expect((await accessTokens.findByHash(hash))?.revokedAt).toEqual(at);

      expect(await accessTokens.findByHash(otherHash)).toEqual({ claims: other, revokedAt: null });
      expect(await revocations.isRevoked(other)).toBe(false);
    });

    it('answers true to exactly one of two concurrent revokes', async () => {
      const hash = aHash();
      await accessTokens.insert(hash, someClaims({ clientId }));
      const at = new Date('2026-01-01T00:10:00Z');
      const results = await Promise.all([accessTokens.revoke(hash, at), accessTokens.revoke(hash, at)]);
      expect(results.sort()).toEqual([false, true]);
    });

    it('answers false when revoking an unknown token', async () => {
      expect(await accessTokens.revoke(aHash(), new Date('2026-01-01T00:10:00Z'))).toBe(false);
    });
  });
}
