import { jest } from '@jest/globals';
import { ClientSecretHasher } from './client-secret.hasher.js';
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
