import { aClient, InMemoryClientRepository, InMemoryRefreshTokenRepository, InMemoryRevocationRepository, InMemoryUserRepository, someClaims } from '@tessera/testing';
import { ScryptPasswordHasher } from '@tessera/tokens';
import { FixedClock } from '../ports/clock.port.js';
import { UserDirectory } from './user-directory.js';

function setup() {
  const clock = new FixedClock();
  const revocations = new InMemoryRevocationRepository();
  const clients = new InMemoryClientRepository(revocations);
  const users = new InMemoryUserRepository(revocations, new InMemoryRefreshTokenRepository(revocations));
  const directory = new UserDirectory(users, new ScryptPasswordHasher({ logN: 14, r: 8, p: 1 }), clock);
  return { clock, clients, users, revocations, directory };
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

  it('rehashes a password stored at a lower cost when the user signs in', async () => {
    const { users, clock } = setup();
    const weak = new UserDirectory(users, new ScryptPasswordHasher({ logN: 14, r: 8, p: 1 }), clock);
    const user = await weak.create('alice', 'correct horse');
    const strong = new UserDirectory(users, new ScryptPasswordHasher({ logN: 15, r: 8, p: 1 }), clock);
    await strong.authenticate('alice', 'correct horse');
    expect((await users.findById(user.id))?.passwordHash).toMatch(/^scrypt\$ln=15,/);
  });
});
