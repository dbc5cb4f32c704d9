import { randomUUID } from 'node:crypto';
import type { RefreshToken } from '@tessera/oauth-core';
import { aClient, someClaims } from '../fixtures.js';
import type { ContractPorts, MakePorts } from './contract-ports.js';
import { aUser } from './user.repository.contract.js';

/** The behaviour every RefreshTokenRepository shares; `makePorts` returns empty stores. */
export function refreshTokenRepositoryContract(name: string, makePorts: MakePorts<'refreshTokens' | 'clients' | 'revocations' | 'users'>): void {
  describe(`${name}: RefreshTokenRepository contract`, () => {
    let refreshTokens: ContractPorts['refreshTokens'];
    let revocations: ContractPorts['revocations'];
    let users: ContractPorts['users'];
    let clientId: string;
    let seq = 0;
    const aHash = () => `rt-${++seq}-${randomUUID()}`;
    beforeEach(async () => {
      const ports = await makePorts();
      ({ refreshTokens, revocations, users } = ports);
      const client = aClient({ grantTypes: ['authorization_code', 'refresh_token'], redirectUris: ['https://app.example/cb'] });
      await ports.clients.create(client);
      clientId = client.clientId;
    });
    const aToken = (overrides: Partial<RefreshToken> = {}): RefreshToken => {
      const grantId = randomUUID();
      return {
        familyId: grantId,
        clientId,
        subject: randomUUID(),
        scope: ['read', 'write'],
        audience: ['https://api.example'],
        grantId,
        issuedAt: new Date('2026-01-01T00:00:00.000Z'),
        familyIssuedAt: new Date('2025-12-01T00:00:00.125Z'),
        expiresAt: new Date('2026-01-31T00:00:00.000Z'),
        ...overrides,
      };
    };

    it('gives back a stored token, neither rotated nor revoked', async () => {
      const token = aToken();
      const hash = aHash();
      await refreshTokens.insert(hash, token);
      expect(await refreshTokens.findByHash(hash)).toEqual({ ...token, rotatedAt: null, revokedAt: null });
      expect(await refreshTokens.findByHash(aHash())).toBeNull();
      await expect(refreshTokens.insert(hash, aToken())).rejects.toThrow();
    });

    it("reads a token with its user's standing in one go (findForRefresh): allowed only for a known user not disabled", async () => {
      // Optional in the port; both adapters offer it (the refresh grant's first read).
      expect(refreshTokens.findForRefresh).toBeInstanceOf(Function);
      const find = (hash: string) => refreshTokens.findForRefresh!(hash);
      const [active, disabled] = [aUser(), aUser({ disabledAt: new Date('2026-01-01T12:00:00Z') })];
      for (const user of [active, disabled]) await users.create(user);
      const tokens = { active: aToken({ subject: active.id }), disabled: aToken({ subject: disabled.id }), unknown: aToken(), notAUuid: aToken({ subject: 'svc:no-user' }) };
      const hashes = { active: aHash(), disabled: aHash(), unknown: aHash(), notAUuid: aHash() };
      for (const key of Object.keys(tokens) as (keyof typeof tokens)[]) await refreshTokens.insert(hashes[key], tokens[key]);

      expect(await find(hashes.active)).toEqual({ token: { ...tokens.active, rotatedAt: null, revokedAt: null }, userActive: true });
      expect(await find(hashes.disabled)).toEqual({ token: { ...tokens.disabled, rotatedAt: null, revokedAt: null }, userActive: false });
      expect(await find(hashes.unknown)).toEqual({ token: { ...tokens.unknown, rotatedAt: null, revokedAt: null }, userActive: false });
      expect(await find(hashes.notAUuid)).toEqual({ token: { ...tokens.notAUuid, rotatedAt: null, revokedAt: null }, userActive: false });
      expect(await find(aHash())).toBeNull();

      const at = new Date('2026-01-02T00:00:00.500Z');
      expect(await refreshTokens.rotate(hashes.active, at, aHash(), tokens.active)).toBe(true);
      expect(await find(hashes.active)).toEqual({ token: { ...tokens.active, rotatedAt: at, revokedAt: null }, userActive: true });
      await users.disable(active.id, at);
      expect(await find(hashes.active)).toEqual({ token: { ...tokens.active, rotatedAt: at, revokedAt: at }, userActive: false });
    });

    it('rotates once: marks the old token and stores the next one of the family, with the family’s issue time', async () => {
      const token = aToken();
      const [hash, nextHash] = [aHash(), aHash()];
      await refreshTokens.insert(hash, token);
      const at = new Date('2026-01-02T00:00:00.500Z');
      const next = { ...token, issuedAt: at, expiresAt: new Date('2026-02-01T00:00:00Z') };
      expect(await refreshTokens.rotate(hash, at, nextHash, next)).toBe(true);
      expect(await refreshTokens.findByHash(hash)).toEqual({ ...token, rotatedAt: at, revokedAt: null });
      expect(await refreshTokens.findByHash(nextHash)).toEqual({ ...next, rotatedAt: null, revokedAt: null });
      const third = aHash();
      expect(await refreshTokens.rotate(hash, at, third, next)).toBe(false);
      expect(await refreshTokens.findByHash(third)).toBeNull();
    });

    it('lets exactly one of concurrent rotations succeed', async () => {
      const token = aToken();
      const hash = aHash();
      await refreshTokens.insert(hash, token);
      const at = new Date('2026-01-02T00:00:00Z');
      const results = await Promise.all([1, 2, 3].map(() => refreshTokens.rotate(hash, at, aHash(), token)));
      expect(results.filter(Boolean)).toHaveLength(1);
    });

    it("rotates many tokens at once, each once: every caller told its own outcome, and each winner's next token stored", async () => {
      const tokens = [aToken(), aToken(), aToken(), aToken()];
      const hashes = tokens.map(() => aHash());
      for (const [i, token] of tokens.entries()) await refreshTokens.insert(hashes[i], token);
      const at = new Date('2026-01-02T00:00:00Z');
      // Each token three times, interleaved, all at once (so that a store which groups them sees repeats in one go).
      const calls = [0, 1, 2].flatMap(() => tokens.map((token, i) => ({ i, next: aHash(), token })));
      const results = await Promise.all(calls.map(({ i, next, token }) => refreshTokens.rotate(hashes[i], at, next, { ...token, issuedAt: at })));
      for (const [i, token] of tokens.entries()) {
        const won = calls.filter((c, k) => c.i === i && results[k]);
        expect(won).toHaveLength(1);
        expect(await refreshTokens.findByHash(won[0].next)).toEqual({ ...token, issuedAt: at, rotatedAt: null, revokedAt: null });
        for (const lost of calls.filter((c, k) => c.i === i && !results[k])) expect(await refreshTokens.findByHash(lost.next)).toBeNull();
        expect((await refreshTokens.findByHash(hashes[i]))?.rotatedAt).toEqual(at);
      }
    });

    it('revokes a grant: every token of its family, and its access tokens through an issued-before mark', async () => {
      const first = aToken();
      const other = aToken();
      const [h1, h2, h3] = [aHash(), aHash(), aHash()];
      await refreshTokens.insert(h1, first);
      await refreshTokens.rotate(h1, new Date('2026-01-02T00:00:00Z'), h2, first);
      await refreshTokens.insert(h3, other);
      const at = new Date('2026-01-03T00:00:00.250Z');
      await refreshTokens.revokeGrant(clientId, first.grantId, at);
      expect((await refreshTokens.findByHash(h1))?.revokedAt).toEqual(at);
      expect((await refreshTokens.findByHash(h2))?.revokedAt).toEqual(at);
      expect((await refreshTokens.findByHash(h3))?.revokedAt).toBeNull();
      expect(await refreshTokens.rotate(h2, at, aHash(), first)).toBe(false);
      const iat = Math.floor(at.getTime() / 1000);
      expect(await revocations.isRevoked(someClaims({ clientId, sub: first.subject, grantId: first.grantId, iat }))).toBe(true);
      expect(await revocations.isRevoked(someClaims({ clientId, sub: other.subject, grantId: other.grantId, iat }))).toBe(false);
    });
  });
}
