import {
  InMemoryRefreshTokenRepository,
  InMemoryRevocationRepository,
  InMemorySessionRepository,
  InMemorySignInFailureRepository,
  InMemoryUserRepository,
} from '@tessera/testing';
import { CryptoRandomSource, ScryptPasswordHasher } from '@tessera/tokens';
import { OAuthError } from '../errors/oauth-error.js';
import { FixedClock } from '../ports/clock.port.js';
import { PasswordHasher } from '../ports/password-hasher.port.js';
import { SignIn, type SignInPolicy } from './sign-in.js';
import { UserDirectory } from './user-directory.js';

const POLICY = { sessionTtl: 3600, maxFailuresPerAccount: 3, maxFailuresPerAddress: 5, windowSeconds: 600, maxConcurrentHashes: 2, maxQueuedHashes: 100 };

/** Cheap scrypt that counts the verifications running at once; `hold()` keeps them waiting until `open()`. */
class CountingHasher extends PasswordHasher {
  private readonly inner = new ScryptPasswordHasher({ logN: 14, r: 8, p: 1 });
  verified = 0;
  running = 0;
  maxRunning = 0;
  private gate: Promise<void> | null = null;
  private opener = () => {};
  hash(password: string) {
    return this.inner.hash(password);
  }
  async verify(password: string, hash: string) {
    this.verified++;
    this.maxRunning = Math.max(this.maxRunning, ++this.running);
    try {
      await this.gate;
      return await this.inner.verify(password, hash);
    } finally {
      this.running--;
    }
  }
  needsRehash(hash: string) {
    return this.inner.needsRehash(hash);
  }
  hold() {
    this.gate = new Promise((resolve) => (this.opener = resolve));
  }
  open() {
    this.opener();
    this.gate = null;
  }
}

async function setup(policy: Partial<SignInPolicy> = {}) {
  const clock = new FixedClock();
  const revocations = new InMemoryRevocationRepository();
  const users = new InMemoryUserRepository(revocations, new InMemoryRefreshTokenRepository(revocations));
  const sessions = new InMemorySessionRepository(users);
  const failures = new InMemorySignInFailureRepository();
  const hasher = new CountingHasher();
  const directory = new UserDirectory(users, hasher, clock);
  const signIn = new SignIn(directory, sessions, failures, new CryptoRandomSource(), clock, { ...POLICY, ...policy });
  const alice = await directory.create('alice', 'correct horse');
  return { clock, directory, sessions, failures, signIn, alice, hasher };
}

/** Resolves once every pending callback and timer of the moment has run (the in-memory ports answer at once). */
const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

describe('SignIn', () => {
  it('opens a session whose token is stored only as a hash, and finds its user by the token', async () => {
    const { signIn, alice, clock } = await setup();
    const result = await signIn.signIn('ALICE', 'correct horse', '10.0.0.1');
    if (result.kind !== 'signed-in') throw new Error(result.kind);
    expect(result.token).toMatch(/^tsr_ss_[A-Za-z0-9_-]{43}$/);
    expect(result.session).toMatchObject({ userId: alice.id, createdAt: clock.now(), expiresAt: new Date(clock.now().getTime() + 3600_000) });
    expect((await signIn.current(result.token))?.user.id).toBe(alice.id);
    for (const other of [undefined, '', 'tsr_ss_short', result.token.slice(0, -1) + (result.token.endsWith('A') ? 'B' : 'A')]) {
      expect(await signIn.current(other)).toBeNull();
    }
    clock.advance(3600);
    expect(await signIn.current(result.token)).toBeNull();
  });

  it('signs out, and a disabled user has no session left', async () => {
    const { signIn, directory } = await setup();
    const a = await signIn.signIn('alice', 'correct horse', '10.0.0.1');
    const b = await signIn.signIn('alice', 'correct horse', '10.0.0.2');
    if (a.kind !== 'signed-in' || b.kind !== 'signed-in') throw new Error('not signed in');
    await signIn.signOut(a.token);
    expect(await signIn.current(a.token)).toBeNull();
    expect(await signIn.current(b.token)).not.toBeNull();
    await directory.disable('alice');
    expect(await signIn.current(b.token)).toBeNull();
    expect(await signIn.signIn('alice', 'correct horse', '10.0.0.1')).toEqual({ kind: 'refused' });
  });

  it('throttles an account over a sliding window, without checking the password meanwhile, whatever the case of the name', async () => {
    const { signIn, clock, failures } = await setup();
    for (const [i, name] of ['alice', 'Alice', 'ALICE'].entries()) {
      expect(await signIn.signIn(name, 'wrong', `10.0.0.${i}`)).toEqual({ kind: 'refused' });
      clock.advance(60);
    }
    // Failures at t=0, 60, 120 s; now t=180 s: the oldest leaves the 600 s window at t=600.
    expect(await signIn.signIn('alice', 'correct horse', '10.0.0.9')).toEqual({ kind: 'throttled', retryAfterSeconds: 420 });
    expect(failures.failures).toHaveLength(6); // the throttled attempt was not counted
    clock.advance(419);
    expect((await signIn.signIn('alice', 'correct horse', '10.0.0.9')).kind).toBe('throttled');
    clock.advance(1);
    expect((await signIn.signIn('alice', 'correct horse', '10.0.0.9')).kind).toBe('signed-in');
  });

  it("clears an account's failures when it signs in, but not its address's", async () => {
    const { signIn } = await setup();
    for (let i = 0; i < 2; i++) await signIn.signIn('alice', 'wrong', '10.0.0.1');
    expect((await signIn.signIn('alice', 'correct horse', '10.0.0.1')).kind).toBe('signed-in');
    for (let i = 0; i < 2; i++) await signIn.signIn('alice', 'wrong', '10.0.0.1');
    // Two account failures since the sign-in: allowed. The address has four of its five.
    expect((await signIn.signIn('alice', 'correct horse', '10.0.0.1')).kind).toBe('signed-in');
    await signIn.signIn('bob', 'wrong', '10.0.0.1');
    expect(await signIn.signIn('alice', 'correct horse', '10.0.0.1')).toEqual({ kind: 'throttled', retryAfterSeconds: 600 });
    expect((await signIn.signIn('alice', 'correct horse', '10.0.0.2')).kind).toBe('signed-in');
  });

  it('throttles unknown usernames like known ones (no enumeration)', async () => {
    const { signIn } = await setup();
    for (let i = 0; i < 3; i++) expect(await signIn.signIn('nobody', 'x', `10.0.1.${i}`)).toEqual({ kind: 'refused' });
    expect(await signIn.signIn('nobody', 'x', '10.0.1.9')).toEqual({ kind: 'throttled', retryAfterSeconds: 600 });
  });

  it('checks at most as many concurrent wrong passwords as the account may fail; the others are throttled unchecked', async () => {
    const { signIn, hasher, failures } = await setup({ maxFailuresPerAccount: 10, maxFailuresPerAddress: 100 });
    const results = await Promise.all(Array.from({ length: 16 }, () => signIn.signIn('alice', 'wrong', '10.0.0.1')));
    expect(results.filter((r) => r.kind === 'refused')).toHaveLength(10);
    expect(results.filter((r) => r.kind === 'throttled')).toHaveLength(6);
    expect(hasher.verified).toBe(10);
    expect(failures.failures).toHaveLength(20); // ten under the account, ten under the address
  });

  it('takes back the attempt of a successful sign-in, so it counts against neither key', async () => {
    const { signIn, failures } = await setup();
    await signIn.signIn('bob', 'wrong', '10.0.0.1');
    expect((await signIn.signIn('alice', 'correct horse', '10.0.0.1')).kind).toBe('signed-in');
    expect(failures.failures.map((f) => f.key)).toEqual([expect.stringMatching(/^user:/), 'ip:10.0.0.1']);
  });

  it('never runs more password checks at once than the bound; past the queue, refuses with temporarily_unavailable, counting nothing', async () => {
    const { signIn, hasher, failures } = await setup({ maxConcurrentHashes: 2, maxQueuedHashes: 1, maxFailuresPerAccount: 100, maxFailuresPerAddress: 100 });
    hasher.hold();
    const attempts = Array.from({ length: 6 }, (_, i) => signIn.signIn('alice', 'wrong', `10.0.0.${i}`).then(
      (result) => result.kind,
      (error: unknown) => (error instanceof OAuthError ? error.code : error),
    ));
    await settle();
    expect(hasher.running).toBe(2); // two checks running, one waiting its turn, three refused at once
    hasher.open();
    expect(await Promise.all(attempts)).toEqual(['refused', 'refused', 'refused', 'temporarily_unavailable', 'temporarily_unavailable', 'temporarily_unavailable']);
    expect(hasher.maxRunning).toBe(2);
    expect(hasher.verified).toBe(3);
    // The three checked left failures (one per key each); the three refused left none.
    expect(failures.failures).toHaveLength(6);
    // Once the checks are done, there is room again.
    expect((await signIn.signIn('alice', 'correct horse', '10.0.0.9')).kind).toBe('signed-in');
  });

  it('a failed check, the database say, is not counted as a failure', async () => {
    const { signIn, failures, hasher } = await setup();
    hasher.verify = () => Promise.reject(new Error('boom'));
    await expect(signIn.signIn('alice', 'correct horse', '10.0.0.1')).rejects.toThrow('boom');
    expect(failures.failures).toEqual([]);
  });
});
