import { createCipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { decryptPrivateKey, encryptPrivateKey, generateKeyEncryptionKey, isKeyEncryptionKey, KeyEncryptionKeys } from './key-encryption.js';

const jwk = JSON.stringify({ kty: 'OKP', crv: 'Ed25519', x: 'public-part', d: 'private-part' });
const kek1 = generateKeyEncryptionKey();
const kek2 = generateKeyEncryptionKey();

/** An envelope as versions before enc:v2 wrote it, under a passphrase. */
function v1Envelope(plaintext: string, passphrase: string): string {
  const iv = randomBytes(12);
  const key = Buffer.from(hkdfSync('sha256', passphrase, 'tessera-signing-key-encryption', 'aes-256-gcm v1', 32));
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return `enc:v1:${[iv, ciphertext, cipher.getAuthTag()].map((b) => b.toString('base64url')).join('.')}`;
}

describe('key encryption', () => {
  const keys = new KeyEncryptionKeys({ current: kek1 });

  it('takes a KEK of 32 random bytes in base64url', () => {
    expect(kek1).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(isKeyEncryptionKey(kek1)).toBe(true);
    expect(isKeyEncryptionKey('a-passphrase-of-at-least-32-characters')).toBe(false);
    expect(() => new KeyEncryptionKeys({ current: 'not-a-key' })).toThrow(/32 bytes in base64url/);
  });

  it('round-trips a private JWK through an enc:v2 envelope that names the KEK by id', () => {
    const stored = encryptPrivateKey(jwk, 'kid-1', keys);
    expect(stored).toMatch(new RegExp(`^enc:v2:${keys.currentId}:[A-Za-z0-9_-]{16}\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]{22}$`));
    expect(keys.currentId).toMatch(/^[A-Za-z0-9_-]{11}$/);
    expect(stored).not.toContain('private-part');
    expect(decryptPrivateKey(stored, 'kid-1', keys)).toBe(jwk);
    expect(keys.isCurrent(stored)).toBe(true);
  });

  it('uses a fresh IV every time', () => {
    expect(encryptPrivateKey(jwk, 'kid-1', keys)).not.toBe(encryptPrivateKey(jwk, 'kid-1', keys));
  });

  it('stores in clear without a current KEK, and reads a plaintext JWK with or without one', () => {
    const none = new KeyEncryptionKeys();
    expect(none.encrypts).toBe(false);
    expect(encryptPrivateKey(jwk, 'kid-1', none)).toBe(jwk);
    expect(decryptPrivateKey(jwk, 'kid-1', none)).toBe(jwk);
    expect(decryptPrivateKey(jwk, 'kid-1', keys)).toBe(jwk);
    expect(keys.isCurrent(jwk)).toBe(false);
  });

  it('refuses an encrypted key without a KEK, or under an unknown one', () => {
    const stored = encryptPrivateKey(jwk, 'kid-1', keys);
    expect(() => decryptPrivateKey(stored, 'kid-1', new KeyEncryptionKeys())).toThrow(
      /^stored signing key is encrypted but TESSERA_KEY_ENCRYPTION_KEY is missing$/,
    );
    expect(() => decryptPrivateKey(stored, 'kid-1', new KeyEncryptionKeys({ current: kek2 }))).toThrow(
      `stored signing key is encrypted under another key-encryption key (id ${keys.currentId}): TESSERA_KEY_ENCRYPTION_KEY is wrong, or set the one it was encrypted with as TESSERA_PREVIOUS_KEY_ENCRYPTION_KEY`,
    );
  });

  it('reads under the previous KEK, writes under the current one', () => {
    const stored = encryptPrivateKey(jwk, 'kid-1', keys);
    const rotated = new KeyEncryptionKeys({ current: kek2, previous: kek1 });
    expect(rotated.isCurrent(stored)).toBe(false);
    expect(decryptPrivateKey(stored, 'kid-1', rotated)).toBe(jwk);
    const again = encryptPrivateKey(jwk, 'kid-1', rotated);
    expect(rotated.isCurrent(again)).toBe(true);
    expect(() => decryptPrivateKey(again, 'kid-1', keys)).toThrow(/another key-encryption key/);
  });

  it('refuses a tampered envelope, one moved to another kid, and one used for another purpose', () => {
    const stored = encryptPrivateKey(jwk, 'kid-1', keys);
    const altered = /^cannot decrypt stored signing key: it was altered$/;
    const [head, ciphertext, tag] = stored.split('.');
    const flipped = (ciphertext[0] === 'A' ? 'B' : 'A') + ciphertext.slice(1);
    expect(() => decryptPrivateKey([head, flipped, tag].join('.'), 'kid-1', keys)).toThrow(altered);
    expect(() => decryptPrivateKey(stored, 'kid-2', keys)).toThrow(altered);
    expect(() => keys.decrypt('client-secret', stored, 'kid-1')).toThrow(/^cannot decrypt stored client-secret hash: it was altered$/);
  });

  it('reads an enc:v1 envelope of earlier versions under the passphrase given as current or previous key', () => {
    const passphrase = 'a-passphrase-of-at-least-32-characters';
    const stored = v1Envelope(jwk, passphrase);
    expect(decryptPrivateKey(stored, 'kid-1', new KeyEncryptionKeys({ current: kek1, previous: passphrase }))).toBe(jwk);
    expect(() => decryptPrivateKey(stored, 'kid-1', keys)).toThrow(/^cannot decrypt stored signing key \(enc:v1\)/);
  });

  it('refuses anything that is neither a JWK nor an envelope', () => {
    expect(() => decryptPrivateKey('enc:v3:abc', 'kid-1', keys)).toThrow(/^stored signing key is not an enc:v2 or enc:v1 envelope$/);
  });
});
