import { calculateJwkThumbprint } from 'jose';
import { FixedClock, LocalChangeFeed, SIGNING_ALGORITHMS } from '@tessera/oauth-core';
import { InMemorySigningKeyRepository } from '@tessera/testing';
import { generateKeyEncryptionKey, KeyEncryptionKeys } from './key-encryption.js';
import { KeySet, RETIRED_AT_MEMBER, RETIRED_KEY_SKEW_SECONDS, RETIREMENT_GRACE_SECONDS, type KeySetOptions } from './key-set.js';

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

class CountingSigningKeyRepository extends InMemorySigningKeyRepository {
  loads = 0;
  failNextLoad = false;
  override async listPublished(now: Date) {
    this.loads += 1;
    if (this.failNextLoad) {
      this.failNextLoad = false;
      throw new Error('database down');
    }
    return super.listPublished(now);
  }
}

/** Lets pending promise callbacks run (enough for a reload to have started). */
const settle = () => new Promise((resolve) => setImmediate(resolve));

async function eventually(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  expect(check()).toBe(true);
}

describe('KeySet', () => {
  let clock: FixedClock;
  let repo: CountingSigningKeyRepository;
  let feed: LocalChangeFeed;
  const open: KeySet[] = [];

  function keySet(options: Partial<KeySetOptions> = {}): KeySet {
    const set = new KeySet(repo, feed, clock, { algorithm: 'ES256', maxTokenTtlSeconds: 3600, ...options });
    open.push(set);
    return set;
  }

  beforeEach(() => {
    clock = new FixedClock();
    repo = new CountingSigningKeyRepository();
    feed = new LocalChangeFeed();
  });
  afterEach(() => open.splice(0).forEach((set) => set.close()));

  it.each(SIGNING_ALGORITHMS)('generates one %s key on first start, with an RFC 7638 kid', async (alg) => {
    const set = keySet({ algorithm: alg });
    await set.init();

    expect(repo.keys).toHaveLength(1);
    const [record] = repo.keys;
    const { kid, alg: _alg, use, ...publicMembers } = record.publicJwk;
    expect(record.kid).toBe(await calculateJwkThumbprint(publicMembers));
    expect({ kid, alg: _alg, use }).toEqual({ kid: record.kid, alg, use: 'sig' });
    expect(record).toMatchObject({ alg, status: 'active', createdAt: clock.now(), retiredAt: null, publishUntil: null });
    expect(JSON.parse(record.privateKey!)).toMatchObject({ ...publicMembers, kid: record.kid, alg });

    const signing = set.signingKey();
    expect({ kid: signing.kid, alg: signing.alg, type: signing.key.type }).toEqual({ kid: record.kid, alg, type: 'private' });
    expect(set.verificationKey(record.kid)?.key.type).toBe('public');
    expect(set.jwks()).toEqual({ keys: [record.publicJwk] });
    expect(set.algorithms()).toEqual([alg]);
  });

  it.each(SIGNING_ALGORITHMS)('publishes no private %s key member', async (alg) => {
    const set = keySet({ algorithm: alg });
    await set.init();
    await set.rotate();
    const keys = set.jwks().keys;
    expect(keys).toHaveLength(2);
    for (const key of keys) for (const member of PRIVATE_MEMBERS) expect(key).not.toHaveProperty(member);
  });

  it('keeps private members out of the JWKS even when the stored public JWK has them', async () => {
    await keySet().init();
    const privateJwk = JSON.parse(repo.keys[0].privateKey!);
    repo.keys[0].publicJwk = { ...privateJwk, use: 'sig' };
    const set = keySet();
    await set.init();
    expect(set.jwks().keys[0]).not.toHaveProperty('d');
    expect(set.verificationKey(repo.keys[0].kid)?.key.type).toBe('public');
  });

  it('reuses the stored key on a later start', async () => {
    const first = keySet();
    await first.init();
    const second = keySet({ algorithm: 'EdDSA' });
    await second.init();

    expect(repo.keys).toHaveLength(1);
    expect(second.signingKey().kid).toBe(first.signingKey().kid);
    expect(second.signingKey().alg).toBe('ES256');
  });

  it('settles on one key when two instances start at once', async () => {
    const [a, b] = [keySet(), keySet()];
    await Promise.all([a.init(), b.init()]);
    expect(repo.keys).toHaveLength(1);
    expect(a.signingKey().kid).toBe(repo.keys[0].kid);
    expect(b.signingKey().kid).toBe(repo.keys[0].kid);
  });

  it('refuses to be used before init', () => {
    expect(() => keySet().signingKey()).toThrow(/^KeySet used before init\(\)$/);
  });

  it('keeps a retired key published until publishUntil (the longest token lifetime plus a skew), then drops it', async () => {
    const set = keySet();
    await set.init();
    const oldKid = set.signingKey().kid;
    clock.advance(60);
    await set.rotate('EdDSA');
    const newKid = set.signingKey().kid;

    expect(newKid).not.toBe(oldKid);
    expect(set.signingKey().alg).toBe('EdDSA');
    expect(repo.keys.map((k) => [k.kid, k.status, k.retiredAt, k.publishUntil])).toEqual([
      [oldKid, 'retired', new Date('2026-01-01T00:01:00Z'), new Date('2026-01-01T01:02:00Z')],
      [newKid, 'active', null, null],
    ]);
    expect(set.jwks().keys.map((k) => k.kid)).toEqual([oldKid, newKid]);
    expect(set.algorithms()).toEqual(['ES256', 'EdDSA']);

    clock.advance(3599 + RETIRED_KEY_SKEW_SECONDS);
    expect(set.verificationKey(oldKid)?.alg).toBe('ES256');

    clock.advance(1);
    expect(set.verificationKey(oldKid)).toBeUndefined();
    expect(set.jwks().keys.map((k) => k.kid)).toEqual([newKid]);
    expect(set.algorithms()).toEqual(['EdDSA']);

    const restarted = keySet();
    await restarted.init();
    expect(restarted.jwks().keys.map((k) => k.kid)).toEqual([newKid]);
  });

  it('rotates on schedule once the active key is the interval old, keeping its algorithm, and once for two sets on one store', async () => {
    const first = keySet({ algorithm: 'EdDSA' });
    const second = keySet();
    await first.init();
    await second.init();
    const oldKid = first.signingKey().kid;
    clock.advance(599);
    expect(await first.rotateIfDue(600)).toBe(false);
    expect(repo.keys).toHaveLength(1);

    clock.advance(1);
    const outcomes = await Promise.all([first.rotateIfDue(600), second.rotateIfDue(600), first.rotateIfDue(600)]);
    expect(outcomes.filter(Boolean)).toHaveLength(1);
    expect(repo.keys.map((k) => [k.alg, k.status, k.publishUntil])).toEqual([
      ['EdDSA', 'retired', new Date(clock.now().getTime() + (3600 + RETIRED_KEY_SKEW_SECONDS) * 1000)],
      ['EdDSA', 'active', null],
    ]);
    expect(first.signingKey().kid).not.toBe(oldKid);
    expect(second.signingKey().kid).toBe(first.signingKey().kid);
    expect(first.jwks().keys.map((k) => k.kid)).toEqual([oldKid, first.signingKey().kid]);
    expect(await second.rotateIfDue(600)).toBe(false);
  });

  it.each(['signing-keys', 'all'] as const)('reloads on a %s change event', async (kind) => {
    const [a, b] = [keySet(), keySet()];
    await a.init();
    await b.init();
    await a.rotate();
    expect(b.signingKey().kid).not.toBe(a.signingKey().kid);

    feed.publish({ kind });
    await eventually(() => b.signingKey().kid === a.signingKey().kid);
    expect(b.jwks()).toEqual(a.jwks());
  });

  it('ignores client change events, and all events after close()', async () => {
    const set = keySet();
    await set.init();
    const loads = repo.loads;

    feed.publish({ kind: 'client', clientId: 'client-1' });
    await settle();
    expect(repo.loads).toBe(loads);

    feed.publish({ kind: 'signing-keys' });
    await settle();
    expect(repo.loads).toBe(loads + 1);

    set.close();
    feed.publish({ kind: 'signing-keys' });
    await settle();
    expect(repo.loads).toBe(loads + 1);
  });

  it('keeps the current keys and logs when a background reload fails', async () => {
    const logged: [string, unknown][] = [];
    const set = keySet({ logger: (message, error) => logged.push([message, error]) });
    await set.init();
    const kid = set.signingKey().kid;

    repo.failNextLoad = true;
    feed.publish({ kind: 'signing-keys' });
    await eventually(() => logged.length > 0);

    expect(logged).toEqual([['reloading signing keys failed; keeping the current keys', new Error('database down')]]);
    expect(set.signingKey().kid).toBe(kid);
    expect(set.jwks().keys).toHaveLength(1);
  });

  describe('onPublishedKeysChanged', () => {
    /** What each listener call saw: the kids it was given, and the JWKS at that moment. */
    function listen(set: KeySet) {
      const told: { kids: string[]; jwks: (string | undefined)[] }[] = [];
      const unsubscribe = set.onPublishedKeysChanged((kids) => told.push({ kids, jwks: set.jwks().keys.map((k) => k.kid) }));
      return { told, unsubscribe };
    }

    it('tells listeners the published kids after a rotation here, once the JWKS serves them', async () => {
      const set = keySet();
      await set.init();
      const oldKid = set.signingKey().kid;
      const { told } = listen(set);

      await set.rotate('EdDSA');
      const newKid = set.signingKey().kid;
      expect(told).toEqual([{ kids: [oldKid, newKid], jwks: [oldKid, newKid] }]);
      expect(set.publishedKids()).toEqual([oldKid, newKid]);

      await set.rotate('ES256', { revokeSigned: true });
      const newestKid = set.signingKey().kid;
      expect(told[1]).toEqual({ kids: [oldKid, newestKid], jwks: [oldKid, newestKid] });
      expect(told).toHaveLength(2);
    });

    it('tells listeners of a rotation that arrives through the change feed, after the reload', async () => {
      const [a, b] = [keySet(), keySet()];
      await a.init();
      await b.init();
      const oldKid = a.signingKey().kid;
      const { told } = listen(b);
      await a.rotate();
      expect(told).toEqual([]);

      feed.publish({ kind: 'signing-keys' });
      await eventually(() => told.length > 0);
      const newKid = a.signingKey().kid;
      expect(told).toEqual([{ kids: [oldKid, newKid], jwks: [oldKid, newKid] }]);
      expect(b.signingKey().kid).toBe(newKid);
    });

    it('tells no one about a reload that changed nothing, nor about the first load', async () => {
      const set = keySet();
      const { told } = listen(set);
      await set.init();
      const loads = repo.loads;

      feed.publish({ kind: 'signing-keys' });
      feed.publish({ kind: 'all' });
      await eventually(() => repo.loads === loads + 2);
      await settle();
      expect(told).toEqual([]);
    });

    it('stops telling a listener that unsubscribed', async () => {
      const set = keySet();
      await set.init();
      const first = listen(set);
      const second = listen(set);
      first.unsubscribe();

      await set.rotate();
      expect(first.told).toEqual([]);
      expect(second.told.map((t) => t.kids)).toEqual([set.publishedKids()]);
    });

    it('logs a failing listener; the rotation succeeds and the other listeners are told', async () => {
      const logged: [string, unknown][] = [];
      const set = keySet({ logger: (message, error) => logged.push([message, error]) });
      await set.init();
      set.onPublishedKeysChanged(() => {
        throw new Error('listener broke');
      });
      const { told } = listen(set);

      await set.rotate();
      expect(logged).toEqual([['a published-keys listener failed', new Error('listener broke')]]);
      expect(told.map((t) => t.kids)).toEqual([set.publishedKids()]);
      expect(set.publishedKids()).toHaveLength(2);
    });
  });

  describe('with TESSERA_KEY_ENCRYPTION_KEY', () => {
    const kek1 = generateKeyEncryptionKey();
    const kek2 = generateKeyEncryptionKey();
    const encryption = (current?: string, previous?: string) => ({ encryption: new KeyEncryptionKeys({ current, previous }) });

    it('stores the private key encrypted, bound to its kid, and loads it with the same key', async () => {
      const first = keySet(encryption(kek1));
      await first.init();
      expect(repo.keys[0].privateKey).toMatch(/^enc:v2:[A-Za-z0-9_-]{11}:/);
      expect(repo.keys[0].privateKey).not.toContain('"d"');

      const second = keySet(encryption(kek1));
      await second.init();
      expect(second.signingKey().kid).toBe(first.signingKey().kid);
    });

    it('refuses to start with the key missing or wrong, and reads it with the right one as the previous key', async () => {
      await keySet(encryption(kek1)).init();
      await expect(keySet().init()).rejects.toThrow(/^stored signing key is encrypted but TESSERA_KEY_ENCRYPTION_KEY is missing$/);
      await expect(keySet(encryption(kek2)).init()).rejects.toThrow(
        /^stored signing key is encrypted under another key-encryption key \(id [A-Za-z0-9_-]{11}\): TESSERA_KEY_ENCRYPTION_KEY is wrong/,
      );
      await keySet(encryption(kek2, kek1)).init();
    });

    it('refuses a private key moved to another kid', async () => {
      await keySet(encryption(kek1)).init();
      repo.keys[0].kid = 'another-kid';
      await expect(keySet(encryption(kek1)).init()).rejects.toThrow(/^cannot decrypt stored signing key: it was altered$/);
    });

    it('still loads a plaintext key (stored before encryption was the default)', async () => {
      await keySet().init();
      expect(repo.keys[0].privateKey).toMatch(/^\{/);
      const set = keySet(encryption(kek1));
      await set.init();
      expect(set.signingKey().kid).toBe(repo.keys[0].kid);
    });
  });

  describe('retirement', () => {
    it("destroys a retired key's private half, and publishes when it was retired", async () => {
      const set = keySet();
      await set.init();
      const old = set.signingKey().kid;
      clock.set(new Date('2026-05-01T10:00:00.700Z'));
      await set.rotate();
      const retired = repo.keys.find((k) => k.kid === old)!;
      expect(retired).toMatchObject({ status: 'retired', privateKey: null });
      // As of the rotation, plus the grace for what instances that had not heard of it yet signed meanwhile.
      const retiredAt = Math.floor(new Date('2026-05-01T10:00:00.700Z').getTime() / 1000) + RETIREMENT_GRACE_SECONDS;
      expect(set.jwks().keys.find((k) => k.kid === old)).toMatchObject({ [RETIRED_AT_MEMBER]: retiredAt });
      expect(set.jwks().keys.find((k) => k.kid === set.signingKey().kid)).not.toHaveProperty(RETIRED_AT_MEMBER);
      expect(set.verificationKey(old)?.retiredAt).toBe(retiredAt);
      expect(set.verificationKey(set.signingKey().kid)?.retiredAt).toBeUndefined();
    });
  });
});
