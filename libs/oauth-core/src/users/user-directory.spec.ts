import {
  aClient,
  InMemoryClientRepository,
  InMemoryConsentRepository,
  InMemoryRefreshTokenRepository,
  InMemoryRevocationRepository,
  InMemoryUserRepository,
  someClaims,
} from '@tessera/testing';
import { ScryptPasswordHasher } from '@tessera/tokens';
import { FixedClock } from '../ports/clock.port.js';
import { UserDirectory } from './user-directory.js';

function setup() {
  const clock = new FixedClock();
  const revocations = new InMemoryRevocationRepository();
  const clients = new InMemoryClientRepository(revocations);
  const refreshTokens = new InMemoryRefreshTokenRepository(revocations);
  const users = new InMemoryUserRepository(revocations, refreshTokens);
  const consents = new InMemoryConsentRepository(revocations, refreshTokens);
  const directory = new UserDirectory(users, new ScryptPasswordHasher({ logN: 14, r: 8, p: 1 }), clock, { consents, clients });
  return { clock, clients, users, consents, revocations, directory };
}

describe('UserDirectory', () => {
  it('creates a user with a hashed password, and authenticates them', async () => {
    const { directory, users } = setup();
    const user = await directory.create('Alice', 'correct horse');
    expect(user).toMatchObject({ username: 'Alice', disabledAt: null, id: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    expect(user.passwordHash).toMatch(/^scrypt\$/);
    expect((await users.findById(user.id))?.passwordHash).not.toContain('correct horse');
    expect(await directory.authenticate('alice', 'correct horse')).toMatchObject({ id: user.id });
    expect(await directory.authenticate('alice', 'wrong horse')).toBeNull();
    expect(await directory.authenticate('bob', 'correct horse')).toBeNull();
  });

  it('refuses a taken username whatever its case, a bad username and a short password', async () => {
    const { directory } = setup();
    await directory.create('alice', 'correct horse');
    await expect(directory.create('ALICE', 'correct horse')).rejects.toMatchObject({ description: 'username "ALICE" is taken' });
    await expect(directory.create('a b', 'correct horse')).rejects.toMatchObject({ code: 'invalid_request' });
    await expect(directory.create('bob', 'short')).rejects.toMatchObject({ description: expect.stringContaining('8 to 1024') });
  });

  it('sets a new password', async () => {
    const { directory } = setup();
    await directory.create('alice', 'correct horse');
    await directory.setPassword('ALICE', 'battery staple');
    expect(await directory.authenticate('alice', 'correct horse')).toBeNull();
    expect(await directory.authenticate('alice', 'battery staple')).not.toBeNull();
    await expect(directory.setPassword('nobody', 'battery staple')).rejects.toMatchObject({ description: 'no user nobody' });
  });

  it('disables a user: no more sign-in, and their tokens at every client revoked', async () => {
    const { directory, clients, revocations, clock } = setup();
    const a = aClient();
    await clients.create(a);
    const user = await directory.create('alice', 'correct horse');
    const iat = clock.nowSeconds();
    expect(await directory.disable('alice')).toMatchObject({ wasDisabled: false, user: { disabledAt: clock.now() } });
    expect(await directory.authenticate('alice', 'correct horse')).toBeNull();
    expect(await revocations.isRevoked(someClaims({ clientId: a.clientId, sub: user.id, iat }))).toBe(true);
    expect((await directory.disable('alice')).wasDisabled).toBe(true);
  });

  it('revokes what a user granted one client, or every client: consent forgotten, tokens there revoked', async () => {
    const { directory, clients, consents, revocations, clock } = setup();
    const [a, b] = [aClient(), aClient()];
    await clients.create(a);
    await clients.create(b);
    const user = await directory.create('alice', 'correct horse');
    const consent = (clientId: string) => ({ userId: user.id, clientId, scopes: ['read'], resources: [], grantedAt: clock.now() });
    await consents.grant(consent(a.clientId));
    await consents.grant(consent(b.clientId));
    const iat = clock.nowSeconds();
    const isRevoked = (clientId: string) => revocations.isRevoked(someClaims({ clientId, sub: user.id, iat }));

    expect(await directory.revokeConsent('ALICE', a.clientId)).toEqual({ user, consentsRevoked: 1 });
    expect(await consents.find(user.id, a.clientId)).toBeNull();
    expect(await consents.find(user.id, b.clientId)).not.toBeNull();
    expect(await isRevoked(a.clientId)).toBe(true);
    expect(await isRevoked(b.clientId)).toBe(false);

    clock.advance(60);
    expect(await directory.revokeConsent('alice')).toEqual({ user, consentsRevoked: 1 });
    expect(await consents.find(user.id, b.clientId)).toBeNull();
    expect(await isRevoked(b.clientId)).toBe(true);
  });

  it('refuses to revoke consent for an unknown user or client', async () => {
    const { directory } = setup();
    await directory.create('alice', 'correct horse');
    await expect(directory.revokeConsent('nobody')).rejects.toMatchObject({ code: 'invalid_request', description: 'no user nobody' });
    await expect(directory.revokeConsent('alice', 'no-such-client')).rejects.toMatchObject({
      code: 'invalid_request',
      description: 'no client no-such-client',
    });
  });

  it('rehashes a password stored at a lower cost when the user signs in', async () => {
    const { users, clock } = setup();
    const weak = new UserDirectory(users, new ScryptPasswordHasher({ logN: 14, r: 8, p: 1 }), clock);
    const user = await weak.create('alice', 'correct horse');
    const strong = new UserDirectory(users, new ScryptPasswordHasher({ logN: 15, r: 8, p: 1 }), clock);
    await strong.authenticate('alice', 'correct horse');
    expect((await users.findById(user.id))?.passwordHash).toMatch(/^scrypt\$ln=15,/);
  });

  it('does not keep a decoy hash that failed: the next unknown name tries again', async () => {
    const inner = new ScryptPasswordHasher({ logN: 14, r: 8, p: 1 });
    let failNext = true;
    const hasher = Object.assign(Object.create(inner) as ScryptPasswordHasher, {
      hash: (password: string) => (failNext ? ((failNext = false), Promise.reject(new Error('out of memory'))) : inner.hash(password)),
    });
    const { users, clock } = setup();
    const directory = new UserDirectory(users, hasher, clock);
    await expect(directory.authenticate('nobody', 'some password')).rejects.toThrow('out of memory');
    expect(await directory.authenticate('nobody', 'some password')).toBeNull();
  });
});
