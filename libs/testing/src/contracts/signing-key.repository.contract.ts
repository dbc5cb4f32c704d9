import type { SigningKeyRecord } from '@tessera/oauth-core';
import { someClaims } from '../fixtures.js';
import type { ContractPorts, MakePorts } from './contract-ports.js';

let kidSeq = 0;
function aKey(overrides: Partial<SigningKeyRecord> = {}): SigningKeyRecord {
  kidSeq += 1;
  const kid = `kid-${kidSeq}`;
  return {
    kid,
    alg: 'ES256',
    publicJwk: { kty: 'EC', crv: 'P-256', x: `x${kidSeq}`, y: `y${kidSeq}`, kid, alg: 'ES256', use: 'sig' },
    privateKey: JSON.stringify({ kty: 'EC', d: `d${kidSeq}` }),
    status: 'active',
    createdAt: new Date(Date.UTC(2026, 0, 1, 0, kidSeq)),
    retiredAt: null,
    publishUntil: null,
    ...overrides,
  };
}

const byKid = (keys: SigningKeyRecord[]) => [...keys].sort((a, b) => a.kid.localeCompare(b.kid));

/** The behaviour every SigningKeyRepository shares; `makePorts` returns empty stores. */
export function signingKeyRepositoryContract(name: string, makePorts: MakePorts<'signingKeys' | 'revocations'>): void {
  describe(`${name}: SigningKeyRepository contract`, () => {
    let keys: ContractPorts['signingKeys'];
    let revocations: ContractPorts['revocations'];
    beforeEach(async () => ({ signingKeys: keys, revocations } = await makePorts()));
    const now = new Date('2026-03-01T00:00:00Z');

    it('publishes nothing at first', async () => {
      expect(await keys.listPublished(now)).toEqual([]);
    });

    it('inserts the first key as the active one, exactly as given', async () => {
      const key = aKey();
      expect(await keys.insertFirst(key)).toBe(true);
      expect(await keys.listPublished(now)).toEqual([key]);
    });

    it('stores a first key as active whatever status it carries', async () => {
      const key = aKey({ status: 'retired' });
      expect(await keys.insertFirst(key)).toBe(true);
      expect(await keys.listPublished(now)).toEqual([{ ...key, status: 'active' }]);
    });

    it('inserts no first key once a key is active', async () => {
      const first = aKey();
      await keys.insertFirst(first);
      expect(await keys.insertFirst(aKey())).toBe(false);
      expect(await keys.listPublished(now)).toEqual([first]);
    });

    it('lets exactly one of concurrent first starts insert', async () => {
      const candidates = [aKey(), aKey(), aKey()];
      const inserted = await Promise.all(candidates.map((k) => keys.insertFirst(k)));
      expect(inserted.filter(Boolean)).toHaveLength(1);
      const published = await keys.listPublished(now);
      expect(published).toEqual([candidates[inserted.indexOf(true)]]);
    });

    it('rotates: retires the active key, published until the given instant, and activates the new one', async () => {
      const first = aKey();
      const second = aKey();
      await keys.insertFirst(first);
      const at = new Date('2026-02-01T00:00:00Z');
      const publishUntil = new Date('2026-03-01T00:00:00Z');
      await keys.rotate(second, at, publishUntil);

      // Its private half is destroyed: it can never sign again.
      const retired: SigningKeyRecord = { ...first, status: 'retired', retiredAt: at, publishUntil, privateKey: null };
      expect(byKid(await keys.listPublished(new Date('2026-02-28T23:59:59.999Z')))).toEqual(byKid([retired, second]));
      expect(await keys.listPublished(publishUntil)).toEqual([second]); // published until, not at
      expect(await keys.insertFirst(aKey())).toBe(false);
    });

    it('rotates out a key that may be compromised: unpublished at once, every token it signed revoked in the log', async () => {
      const first = aKey();
      const second = aKey();
      await keys.insertFirst(first);
      const at = new Date('2026-02-01T00:00:00Z');
      const tokensExpireBy = new Date('2026-02-02T00:00:00Z');
      await keys.rotate(second, at, tokensExpireBy, { revokeSigned: true });
      expect(await keys.listPublished(at)).toEqual([second]);
      expect(await revocations.listAfter('0', 10)).toEqual([{ seq: expect.any(String), kind: 'key', kid: first.kid, expiresAt: tokensExpireBy, revokedAt: at }]);
      // Introspection asks the log, not its own (possibly stale) key set.
      expect(await revocations.isRevoked(someClaims({ kid: first.kid }))).toBe(true);
      expect(await revocations.isRevoked(someClaims({ kid: second.kid }))).toBe(false);
      expect(await revocations.isRevoked(someClaims())).toBe(false);
    });

    it('rotates twice, keeping each retired key for its own window', async () => {
      const [k1, k2, k3] = [aKey(), aKey(), aKey()];
      await keys.insertFirst(k1);
      await keys.rotate(k2, new Date('2026-02-01T00:00:00Z'), new Date('2026-02-10T00:00:00Z'));
      await keys.rotate(k3, new Date('2026-02-05T00:00:00Z'), new Date('2026-02-20T00:00:00Z'));
      const kids = async (iso: string) => (await keys.listPublished(new Date(iso))).map((k) => k.kid).sort();
      expect(await kids('2026-02-06T00:00:00Z')).toEqual([k1.kid, k2.kid, k3.kid].sort());
      expect(await kids('2026-02-15T00:00:00Z')).toEqual([k2.kid, k3.kid].sort());
      expect(await kids('2026-03-01T00:00:00Z')).toEqual([k3.kid]);
      expect((await keys.listPublished(new Date('2026-02-15T00:00:00Z'))).filter((k) => k.status === 'active')).toHaveLength(1);
    });

    it('rotates on schedule only when the newest key was created by the due instant, once among concurrent callers', async () => {
      const first = aKey(); // created 2026-01-01T00:0n
      await keys.insertFirst(first);
      const at = new Date('2026-02-01T00:00:00Z');
      const publishUntil = new Date('2026-02-02T00:00:00Z');
      expect(await keys.rotateIfDue(aKey(), at, publishUntil, new Date(first.createdAt.getTime() - 1))).toBe(false);
      expect(await keys.listPublished(at)).toEqual([first]);

      const candidates = [aKey({ createdAt: at }), aKey({ createdAt: at }), aKey({ createdAt: at })];
      const rotated = await Promise.all(candidates.map((k) => keys.rotateIfDue(k, at, publishUntil, first.createdAt)));
      expect(rotated.filter(Boolean)).toHaveLength(1);
      const winner = candidates[rotated.indexOf(true)];
      const retired: SigningKeyRecord = { ...first, status: 'retired', retiredAt: at, publishUntil, privateKey: null };
      expect(byKid(await keys.listPublished(at))).toEqual(byKid([retired, winner]));
    });

    it('replaces a private key (re-encrypted) only while it is still the expected one', async () => {
      const key = aKey();
      await keys.insertFirst(key);
      expect(await keys.replacePrivateKey(key.kid, 'not-the-key', 'enc:v2:next')).toBe(false);
      expect(await keys.replacePrivateKey(key.kid, key.privateKey!, 'enc:v2:next')).toBe(true);
      expect(await keys.listPublished(now)).toEqual([{ ...key, privateKey: 'enc:v2:next' }]);
      expect(await keys.replacePrivateKey(key.kid, key.privateKey!, 'enc:v2:other')).toBe(false);
      expect(await keys.replacePrivateKey('no-such-kid', 'enc:v2:next', 'enc:v2:other')).toBe(false);
    });

    it('rotates in a new active key when none is active yet', async () => {
      const key = aKey();
      await keys.rotate(key, now, new Date('2026-04-01T00:00:00Z'));
      expect(await keys.listPublished(now)).toEqual([key]);
    });
  });
}
