import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/**
 * Private signing keys at rest: AES-256-GCM under a key derived (HKDF-SHA256)
 * from TESSERA_KEY_ENCRYPTION_KEY. Envelope: `enc:v1:<iv>.<ciphertext>.<tag>`,
 * each part base64url. A plaintext JWK (JSON, starts with `{`) is also accepted.
 */
const ENVELOPE_PREFIX = 'enc:v1:';
const ENVELOPE_SHAPE = /^enc:v1:([A-Za-z0-9_-]{16})\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]{22})$/;
const HKDF_SALT = 'tessera-signing-key-encryption';
const HKDF_INFO = 'aes-256-gcm v1';

function deriveKey(secret: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, HKDF_SALT, HKDF_INFO, 32));
}

export function encryptPrivateKey(privateJwkJson: string, secret: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', deriveKey(secret), iv);
  const ciphertext = Buffer.concat([cipher.update(privateJwkJson, 'utf8'), cipher.final()]);
  const parts = [iv, ciphertext, cipher.getAuthTag()].map((b) => b.toString('base64url'));
  return ENVELOPE_PREFIX + parts.join('.');
}

/** The private JWK JSON of a stored key, decrypting it when it is an envelope. */
export function decryptPrivateKey(stored: string, secret?: string): string {
  if (stored.startsWith('{')) return stored;
  const match = ENVELOPE_SHAPE.exec(stored);
  if (!match) throw new Error('stored signing key is neither a JWK nor an enc:v1 envelope');
  if (!secret) throw new Error('stored signing key is encrypted but TESSERA_KEY_ENCRYPTION_KEY is missing');
  const [iv, ciphertext, tag] = match.slice(1).map((part) => Buffer.from(part, 'base64url'));
  const decipher = createDecipheriv('aes-256-gcm', deriveKey(secret), iv);
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8');
  } catch (cause) {
    throw new Error('cannot decrypt stored signing key: TESSERA_KEY_ENCRYPTION_KEY is wrong', { cause });
  }
}
