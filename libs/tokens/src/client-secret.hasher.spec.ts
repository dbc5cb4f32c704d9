import { jest } from '@jest/globals';
import { createHmac, randomBytes } from 'node:crypto';
import { ClientSecretHasher, HmacSha256 } from './client-secret.hasher.js';
import { generateKeyEncryptionKey, KeyEncryptionKeys } from './key-encryption.js';

describe('ClientSecretHasher', () => {
  const hasher = new ClientSecretHasher();

  it('hashes with HMAC-SHA256 under the default domain-separation key', () => {
    expect(hasher.hash('s3cret')).toBe('hmac-sha256$7uyGVzH-ZHaeTUVPLR51uC0TsF3HO1QaaRdNXCuZEuY');
  });

  it('verifies the right secret and rejects a wrong one', () => {
    const hash = hasher.hash('s3cret');
    expect(hasher.verify('s3cret', hash)).toBe(true);
    expect(hasher.verify('s3cret ', hash)).toBe(false);
    expect(hasher.verify('', hash)).toBe(false);
  });

  it('opens a sealed hash once: later checks of the same client reuse its digest', () => {
    const keys = new KeyEncryptionKeys({ current: generateKeyEncryptionKey() });
    const sealed = new ClientSecretHasher({ keys });
    const hash = sealed.hash('s3cret');
    const decrypt = jest.spyOn(keys, 'decryptBytes');
    expect(sealed.verify('s3cret', hash)).toBe(true);
    expect(sealed.verify('wrong', hash)).toBe(false);
    expect(sealed.verify('s3cret', hash)).toBe(true);
    expect(decrypt).toHaveBeenCalledTimes(1);
    // An altered hash still fails, and is not remembered.
    const altered = hash.slice(0, -2) + (hash.endsWith('AA') ? 'BB' : 'AA');
    expect(sealed.verify('s3cret', altered)).toBe(false);
    expect(sealed.verify('s3cret', altered)).toBe(false);
    expect(decrypt).toHaveBeenCalledTimes(3);
  });

  it('depends on the pepper', () => {
    const peppered = new ClientSecretHasher('pepper-1');
    expect(peppered.hash('s3cret')).not.toBe(hasher.hash('s3cret'));
    expect(peppered.verify('s3cret', hasher.hash('s3cret'))).toBe(false);
    expect(new ClientSecretHasher('pepper-1').verify('s3cret', peppered.hash('s3cret'))).toBe(true);
  });

  it.each([
    '',
    'hmac-sha256$',
    'hmac-sha256$7uyGVzH-ZHaeTUVPLR51uC0TsF3HO1QaaRdNXCuZEu',
    'hmac-sha256$7uyGVzH-ZHaeTUVPLR51uC0TsF3HO1QaaRdNXCuZEuYA',
    'hmac-sha256$7uyGVzH+ZHaeTUVPLR51uC0TsF3HO1QaaRdNXCuZEuY',
    'sha256$7uyGVzH-ZHaeTUVPLR51uC0TsF3HO1QaaRdNXCuZEuY',
    '7uyGVzH-ZHaeTUVPLR51uC0TsF3HO1QaaRdNXCuZEuY',
  ])('is false, not throwing, for the malformed hash %j', (hash) => {
    expect(hasher.verify('s3cret', hash)).toBe(false);
  });

  describe('with a key-encryption key', () => {
    const kek1 = generateKeyEncryptionKey();
    const kek2 = generateKeyEncryptionKey();
    const sealed = new ClientSecretHasher({ keys: new KeyEncryptionKeys({ current: kek1 }) });
    const legacy = 'hmac-sha256$7uyGVzH-ZHaeTUVPLR51uC0TsF3HO1QaaRdNXCuZEuY'; // s3cret under the built-in pepper

    it('stores the digest sealed under a key derived from the KEK: the built-in pepper alone cannot check it', () => {
      const hash = sealed.hash('s3cret');
      expect(hash).toMatch(/^hmac-sha256\$enc:v2:[A-Za-z0-9_-]{11}:/);
      expect(hash).not.toContain('7uyGVzH');
      expect(hash.length).toBeLessThanOrEqual(128); // clients.secret_hash is varchar(128)
      expect(sealed.verify('s3cret', hash)).toBe(true);
      expect(sealed.verify('s3cret ', hash)).toBe(false);
      expect(hasher.verify('s3cret', hash)).toBe(false);
      expect(new ClientSecretHasher({ keys: new KeyEncryptionKeys({ current: kek2 }) }).verify('s3cret', hash)).toBe(false);
      expect(sealed.needsRehash(hash)).toBe(false);
    });

    it('still verifies a hash of earlier versions (the built-in pepper), and says it needs rehashing', () => {
      expect(sealed.verify('s3cret', legacy)).toBe(true);
      expect(sealed.needsRehash(legacy)).toBe(true);
      expect(hasher.needsRehash(legacy)).toBe(false);
    });

    it('seals an old hash without the secret, and moves one to a new KEK', () => {
      const resealed = sealed.reseal(legacy);
      expect(resealed).toMatch(/^hmac-sha256\$enc:v2:/);
      expect(sealed.verify('s3cret', resealed)).toBe(true);
      const next = new ClientSecretHasher({ keys: new KeyEncryptionKeys({ current: kek2, previous: kek1 }) });
      expect(next.verify('s3cret', resealed)).toBe(true);
      expect(next.needsRehash(resealed)).toBe(true);
      const moved = next.reseal(resealed);
      expect(next.needsRehash(moved)).toBe(false);
      expect(new ClientSecretHasher({ keys: new KeyEncryptionKeys({ current: kek2 }) }).verify('s3cret', moved)).toBe(true);
      expect(() => new ClientSecretHasher({ keys: new KeyEncryptionKeys({ current: kek2 }) }).reseal(resealed)).toThrow(/another key-encryption key/);
    });

    it('is false, not throwing, for a sealed hash that was altered', () => {
      const hash = sealed.hash('s3cret');
      expect(sealed.verify('s3cret', hash.slice(0, -2) + (hash.endsWith('AA') ? 'BA' : 'AA'))).toBe(false);
      expect(sealed.verify('s3cret', 'hmac-sha256$enc:v2:garbage')).toBe(false);
    });
  });
});

describe('HmacSha256', () => {
  // RFC 4231 §4: test cases 1, 2, 3 and 6 (a key longer than the block, hashed first).
  it.each([
    ['0b'.repeat(20), Buffer.from('Hi There'), 'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7'],
    [Buffer.from('Jefe').toString('hex'), Buffer.from('what do ya want for nothing?'), '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843'],
    ['aa'.repeat(20), Buffer.alloc(50, 0xdd), '773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe'],
    ['aa'.repeat(131), Buffer.from('Test Using Larger Than Block-Size Key - Hash Key First'), '60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54'],
  ])('gives RFC 4231 vectors (key %s)', (key, message, expected) => {
    expect(new HmacSha256(Buffer.from(key, 'hex')).mac(message.toString('latin1')).toString('hex')).toBe(
      // Messages are UTF-8 strings here: the vectors whose bytes are not ASCII are checked through createHmac instead.
      message.every((b) => b < 0x80) ? expected : createHmac('sha256', Buffer.from(key, 'hex')).update(message.toString('latin1'), 'utf8').digest('hex'),
    );
  });

  it('agrees with createHmac for short, long, empty and non-ASCII messages and keys, one after another', () => {
    for (const keyLength of [0, 1, 24, 64, 65, 200]) {
      const key = randomBytes(keyLength);
      const hmac = new HmacSha256(key);
      for (const message of ['', 's3cret', randomBytes(32).toString('base64url'), 'é'.repeat(200), 'x'.repeat(256), 'x'.repeat(257), randomBytes(3000).toString('hex'), '🔑 secret']) {
        expect(hmac.mac(message).equals(createHmac('sha256', key).update(message, 'utf8').digest())).toBe(true);
      }
    }
  });
});
