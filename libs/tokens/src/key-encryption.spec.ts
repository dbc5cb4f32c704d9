import { decryptPrivateKey, encryptPrivateKey } from './key-encryption.js';

const jwk = JSON.stringify({ kty: 'OKP', crv: 'Ed25519', x: 'public-part', d: 'private-part' });

describe('key encryption', () => {
  it('round-trips a private JWK through an enc:v1 envelope', () => {
    const stored = encryptPrivateKey(jwk, 'secret-1');
    expect(stored).toMatch(/^enc:v1:[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}$/);
    expect(stored).not.toContain('private-part');
    expect(decryptPrivateKey(stored, 'secret-1')).toBe(jwk);
  });

  it('uses a fresh IV every time', () => {
    expect(encryptPrivateKey(jwk, 'secret-1')).not.toBe(encryptPrivateKey(jwk, 'secret-1'));
  });

  it('loads a plaintext JWK with or without a secret', () => {
    expect(decryptPrivateKey(jwk)).toBe(jwk);
    expect(decryptPrivateKey(jwk, 'secret-1')).toBe(jwk);
  });

  it('refuses an encrypted key without a secret', () => {
    expect(() => decryptPrivateKey(encryptPrivateKey(jwk, 'secret-1'))).toThrow(
      /^stored signing key is encrypted but TESSERA_KEY_ENCRYPTION_KEY is missing$/,
    );
  });

  it('refuses the wrong secret, and a tampered envelope', () => {
    const stored = encryptPrivateKey(jwk, 'secret-1');
    const wrong = /^cannot decrypt stored signing key: TESSERA_KEY_ENCRYPTION_KEY is wrong$/;
    expect(() => decryptPrivateKey(stored, 'secret-2')).toThrow(wrong);
    const [head, ciphertext, tag] = stored.split('.');
    const flipped = (ciphertext[0] === 'A' ? 'B' : 'A') + ciphertext.slice(1);
    expect(() => decryptPrivateKey([head, flipped, tag].join('.'), 'secret-1')).toThrow(wrong);
  });

  it('refuses anything that is neither a JWK nor an envelope', () => {
    expect(() => decryptPrivateKey('enc:v2:abc', 'secret-1')).toThrow(/^stored signing key is neither a JWK nor an enc:v1 envelope$/);
  });
});
