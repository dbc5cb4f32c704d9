import { randomUUID } from 'node:crypto';
import type { User } from '@tessera/oauth-core';
import { aClient, someClaims } from '../fixtures.js';
import type { ContractPorts, MakePorts } from './contract-ports.js';

export function aUser(overrides: Partial<User> = {}): User {
  return {
    id: randomUUID(),
    username: `user-${randomUUID().slice(0, 8)}`,
    passwordHash: 'scrypt$ln=15,r=8,p=1$c2FsdHNhbHRzYWx0c2FsdA$' + 'k'.repeat(43),
    disabledAt: null,
    createdAt: new Date('2026-01-01T00:00:00.000Z'),
    ...overrides,
  };
}

/** The behaviour every UserRepository shares; `makePorts` returns empty stores. */
export function userRepositoryContract(name: string, makePorts: MakePorts<'users' | 'clients' | 'revocations' | 'refreshTokens'>): void {
  describe(`${name}: UserRepository contract`, () => {
    let ports: Awaited<ReturnType<MakePorts<'users' | 'clients' | 'revocations' | 'refreshTokens'>>>;
    let users: ContractPorts['users'];
    beforeEach(async () => {
      ports = await makePorts();
      users = ports.users;
    });

    it('gives back a created user by id and by username, whatever its case', async () => {
      const user = aUser({ username: 'Alice.Smith@example.com' });
      await users.create(user);
      expect(await users.findById(user.id)).toEqual(user);
      expect(await users.findByUsername('alice.smith@EXAMPLE.com')).toEqual(user);
      expect(await users.findByUsername('bob')).toBeNull();
      expect(await users.findById(randomUUID())).toBeNull();
    });

    it('answers null for an id that is no UUID (a client_credentials subject)', async () => {
      expect(await users.findById('client-1')).toBeNull();
    });

    it('refuses a second user with the same username in another case', async () => {
      await users.create(aUser({ username: 'alice' }));
      await expect(users.create(aUser({ username: 'ALICE' }))).rejects.toThrow();
      expect((await users.list()).map((u) => u.username)).toEqual(['alice']);
    });

    it('lists users by username', async () => {
      const b = aUser({ username: 'bob' });
      const a = aUser({ username: 'Alice' });
      await users.create(b);
      await users.create(a);
      expect(await users.list()).toEqual([a, b]);
    });

    it('changes the password hash', async () => {
      const user = aUser();
      await users.create(user);
      expect(await users.setPasswordHash(user.id, 'new-hash')).toBe(true);
      expect((await users.findById(user.id))?.passwordHash).toBe('new-hash');
      expect(await users.setPasswordHash(randomUUID(), 'x')).toBe(false);
    });

    it('disables a user, revoking their tokens at every client and their refresh tokens, and nobody else’s', async () => {
      const [a, b] = [aClient(), aClient()];
      await ports.clients.create(a);
      await ports.clients.create(b);
      const alice = aUser();
      const bob = aUser();
      await users.create(alice);
      await users.create(bob);
      const grantId = randomUUID();
      const refresh = (subject: string) => ({
        familyId: grantId,
        clientId: a.clientId,
        subject,
        scope: ['read'],
        audience: [],
        grantId,
        issuedAt: new Date('2026-01-01T00:00:00Z'),
        familyIssuedAt: new Date('2026-01-01T00:00:00Z'),
        expiresAt: new Date('2026-02-01T00:00:00Z'),
      });
      await ports.refreshTokens.insert('rt-alice', refresh(alice.id));
      await ports.refreshTokens.insert('rt-bob', refresh(bob.id));
      const at = new Date('2026-01-02T00:00:00.250Z');
      const disabled = await users.disable(alice.id, at);
      expect(disabled).toEqual({ ...alice, disabledAt: at });
      expect(await users.findById(alice.id)).toEqual(disabled);
      const iat = Math.floor(at.getTime() / 1000); // issued in the same second: revoked too
      for (const c of [a, b]) expect(await ports.revocations.isRevoked(someClaims({ clientId: c.clientId, sub: alice.id, iat }))).toBe(true);
      expect(await ports.revocations.isRevoked(someClaims({ clientId: a.clientId, sub: bob.id, iat }))).toBe(false);
      expect((await ports.refreshTokens.findByHash('rt-alice'))?.revokedAt).toEqual(at);
      expect((await ports.refreshTokens.findByHash('rt-bob'))?.revokedAt).toBeNull();
      expect(await users.disable(randomUUID(), at)).toBeNull();
    });

    it('enables a disabled user; what the disabling revoked stays revoked', async () => {
      const alice = aUser();
      const client = aClient();
      await ports.clients.create(client);
      await users.create(alice);
      const at = new Date('2026-01-02T00:00:00.250Z');
      await users.disable(alice.id, at);
      const enabled = await users.enable(alice.id);
      expect(enabled).toEqual({ ...alice, disabledAt: null });
      expect(await users.findById(alice.id)).toEqual(enabled);
      const iat = Math.floor(at.getTime() / 1000);
      expect(await ports.revocations.isRevoked(someClaims({ clientId: client.clientId, sub: alice.id, iat }))).toBe(true);
      expect(await users.enable(randomUUID())).toBeNull();
    });

    it('hands out copies', async () => {
      const user = aUser();
      await users.create(user);
      const found = (await users.findById(user.id))!;
      found.username = 'mutated';
      expect(await users.findById(user.id)).toEqual(user);
    });
  });
}
