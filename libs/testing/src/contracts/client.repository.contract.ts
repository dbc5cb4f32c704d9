import type { AuthorizationCode, Client, RefreshToken } from '@tessera/oauth-core';
import { aClient, someClaims } from '../fixtures.js';
import type { ContractPorts, MakePorts } from './contract-ports.js';

/** The behaviour every ClientRepository shares; `makePorts` returns empty stores. */
export function clientRepositoryContract(name: string, makePorts: MakePorts<'clients' | 'revocations' | 'refreshTokens' | 'authorizationCodes'>): void {
  describe(`${name}: ClientRepository contract`, () => {
    let clients: ContractPorts['clients'];
    let revocations: ContractPorts['revocations'];
    let refreshTokens: ContractPorts['refreshTokens'];
    let authorizationCodes: ContractPorts['authorizationCodes'];
    beforeEach(async () => ({ clients, revocations, refreshTokens, authorizationCodes } = await makePorts()));

    const full = (): Client =>
      aClient({
        secretHash: 'h'.repeat(64),
        clientName: 'Full client',
        grantTypes: ['client_credentials', 'authorization_code'],
        scopes: ['read', 'write', 'admin'],
        tokenEndpointAuthMethod: 'client_secret_post',
        redirectUris: ['https://app.example/cb', 'https://app.example/cb2'],
        accessTokenFormat: 'jwt',
        accessTokenTtl: 600,
        resources: ['https://api.example'],
        registrationAccessTokenHash: 'r'.repeat(43),
        disabledAt: new Date('2026-02-01T10:00:00.123Z'),
        deletedAt: new Date('2026-02-02T10:00:00.456Z'),
        createdAt: new Date('2026-01-01T00:00:00.000Z'),
        updatedAt: new Date('2026-01-02T00:00:00.456Z'),
      });

    it('gives back a created client with every field as it was', async () => {
      const client = full();
      const minimal = aClient({ clientName: null, secretHash: null, tokenEndpointAuthMethod: 'none', scopes: [] });
      await clients.create(client);
      await clients.create(minimal);
      expect(await clients.findById(client.clientId)).toEqual(client);
      expect(await clients.findById(minimal.clientId)).toEqual(minimal);
    });

    it('returns null for an unknown client', async () => {
      expect(await clients.findById('no-such-client')).toBeNull();
    });

    it('refuses a second client with the same id, keeping the first', async () => {
      const client = aClient();
      await clients.create(client);
      await expect(clients.create({ ...client, clientName: 'impostor' })).rejects.toThrow();
      expect((await clients.findById(client.clientId))?.clientName).toBe(client.clientName);
    });

    it('lists every client', async () => {
      const a = aClient();
      const b = full();
      await clients.create(a);
      await clients.create(b);
      const listed = await clients.list();
      expect(listed.sort((x, y) => x.clientId.localeCompare(y.clientId))).toEqual([a, b].sort((x, y) => x.clientId.localeCompare(y.clientId)));
    });

    it('applies changes, returns and stores the updated client, and moves updatedAt', async () => {
      const client = aClient();
      await clients.create(client);
      const updated = await clients.update(client.clientId, {
        scopes: ['read'],
        accessTokenFormat: 'jwt',
        clientName: null,
        disabledAt: new Date('2026-03-01T00:00:00Z'),
      });
      const { updatedAt, ...rest } = updated!;
      expect(rest).toEqual({
        ...client,
        scopes: ['read'],
        accessTokenFormat: 'jwt',
        clientName: null,
        disabledAt: new Date('2026-03-01T00:00:00Z'),
        updatedAt: undefined,
      });
      expect(updatedAt.getTime()).not.toBe(client.updatedAt.getTime());
      expect(await clients.findById(client.clientId)).toEqual(updated);
    });

    it('sets and clears the registration access token hash and the deletion time (RFC 7592)', async () => {
      const client = aClient({ registrationAccessTokenHash: 'a'.repeat(43) });
      await clients.create(client);
      const deleted = await clients.update(client.clientId, { registrationAccessTokenHash: null, deletedAt: new Date('2026-03-01T00:00:00Z') });
      expect(deleted).toMatchObject({ registrationAccessTokenHash: null, deletedAt: new Date('2026-03-01T00:00:00Z') });
      expect(await clients.findById(client.clientId)).toMatchObject({ registrationAccessTokenHash: null, deletedAt: new Date('2026-03-01T00:00:00Z') });
    });

    it('leaves a property whose change is undefined as it was', async () => {
      const client = full();
      await clients.create(client);
      const updated = await clients.update(client.clientId, { clientName: undefined, accessTokenTtl: 60 });
      expect(updated).toMatchObject({ clientName: 'Full client', accessTokenTtl: 60 });
    });

    it('returns null when updating an unknown client, and records no revocation for it', async () => {
      expect(await clients.update('no-such-client', { scopes: [] }, new Date('2026-06-01T00:00:00Z'))).toBeNull();
      expect(await revocations.isRevoked(someClaims({ clientId: 'no-such-client' }))).toBe(false);
    });

    it('revokes every token of the client issued before the given instant, with the update', async () => {
      const client = aClient();
      const other = aClient();
      await clients.create(client);
      await clients.create(other);
      const cutoff = new Date('2026-06-01T12:00:00.500Z');
      const at = (iso: string) => Math.floor(new Date(iso).getTime() / 1000);
      await clients.update(client.clientId, { secretHash: 'rotated' }, cutoff);

      const mine = (iat: number) => someClaims({ clientId: client.clientId, sub: 'alice', iat, exp: iat + 3600 });
      expect(await revocations.isRevoked(mine(at('2026-06-01T11:00:00Z')))).toBe(true);
      expect(await revocations.isRevoked(mine(at('2026-06-01T12:00:00Z')))).toBe(true); // 12:00:00 < 12:00:00.5
      expect(await revocations.isRevoked(mine(at('2026-06-01T12:00:01Z')))).toBe(false);
      expect(await revocations.isRevoked(someClaims({ clientId: other.clientId, iat: at('2026-06-01T11:00:00Z') }))).toBe(false);
      expect((await clients.findById(client.clientId))?.secretHash).toBe('rotated');
    });

    it("revokes the client's refresh tokens and unredeemed codes with its tokens (they must not come back when it is enabled again), and only its", async () => {
      const client = aClient();
      const other = aClient();
      await clients.create(client);
      await clients.create(other);
      const issuedAt = new Date('2026-06-01T11:00:00.000Z');
      const refreshToken = (clientId: string, grantId: string): RefreshToken => ({
        familyId: grantId,
        clientId,
        subject: 'alice',
        scope: ['read'],
        audience: [],
        grantId,
        issuedAt,
        familyIssuedAt: issuedAt,
        expiresAt: new Date('2026-07-01T00:00:00.000Z'),
      });
      const code = (clientId: string, grantId: string): AuthorizationCode => ({
        clientId,
        subject: 'alice',
        redirectUri: 'https://app.example/cb',
        codeChallenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
        codeChallengeMethod: 'S256',
        scope: ['read'],
        audience: [],
        grantId,
        issuedAt,
        expiresAt: new Date('2026-06-01T11:01:00.000Z'),
      });
      await refreshTokens.insert('mine', refreshToken(client.clientId, '00000000-0000-4000-8000-000000000001'));
      await refreshTokens.insert('theirs', refreshToken(other.clientId, '00000000-0000-4000-8000-000000000002'));
      await authorizationCodes.insert('my-code', code(client.clientId, '00000000-0000-4000-8000-000000000003'));
      await authorizationCodes.insert('their-code', code(other.clientId, '00000000-0000-4000-8000-000000000004'));
      await clients.update(client.clientId, { scopes: [] });
      expect((await refreshTokens.findByHash('mine'))?.revokedAt).toBeNull();

      const cutoff = new Date('2026-06-01T12:00:00.000Z');
      await clients.update(client.clientId, { disabledAt: cutoff }, cutoff);
      await clients.update(client.clientId, { disabledAt: null });
      expect((await refreshTokens.findByHash('mine'))?.revokedAt).toEqual(cutoff);
      expect((await refreshTokens.findByHash('theirs'))?.revokedAt).toBeNull();
      // Its codes not yet redeemed are void too (redeemed now, they would give fresh tokens); another's are not.
      expect(await authorizationCodes.redeem('my-code', client.clientId, cutoff)).toBeNull();
      expect(await authorizationCodes.redeem('their-code', other.clientId, cutoff)).toMatchObject({ previouslyRedeemedAt: null });
    });

    it('replaces a secret hash only while it is still the expected one', async () => {
      const client = aClient({ secretHash: 'old-hash' });
      await clients.create(client);
      expect(await clients.replaceSecretHash(client.clientId, 'not-the-hash', 'next-hash')).toBe(false);
      expect((await clients.findById(client.clientId))?.secretHash).toBe('old-hash');
      expect(await clients.replaceSecretHash(client.clientId, 'old-hash', 'next-hash')).toBe(true);
      expect((await clients.findById(client.clientId))?.secretHash).toBe('next-hash');
      expect(await clients.replaceSecretHash(client.clientId, 'old-hash', 'other-hash')).toBe(false);
      expect(await clients.replaceSecretHash('no-such-client', 'old-hash', 'next-hash')).toBe(false);
      expect((await clients.findById(client.clientId))?.secretHash).toBe('next-hash');
    });

    it('hands out copies: changing a given or returned client changes nothing stored', async () => {
      const client = aClient();
      const original = structuredClone(client);
      await clients.create(client);
      client.scopes.push('admin');
      const found = (await clients.findById(client.clientId))!;
      found.scopes.push('admin');
      found.clientName = 'mutated';
      expect(await clients.findById(client.clientId)).toEqual(original);
    });
  });
}
