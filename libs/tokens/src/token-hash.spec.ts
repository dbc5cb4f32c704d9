import { CryptoRandomSource } from './crypto-random.source.js';
import { hashToken } from './token-hash.js';

describe('hashToken', () => {
  it('is SHA-256 in base64url without padding', () => {
    // FIPS 180-2 test vector for "abc": ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad
    expect(hashToken('abc')).toBe('ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0');
  });
});

describe('CryptoRandomSource', () => {
  it('returns the requested number of random bytes in base64url', () => {
    const random = new CryptoRandomSource();
    const a = random.token(32);
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(a, 'base64url')).toHaveLength(32);
    expect(random.token(32)).not.toBe(a);
    expect(random.token(16)).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });
});
