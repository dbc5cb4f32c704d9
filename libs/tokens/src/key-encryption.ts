import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/**
 * Secrets at rest under the key-encryption key (KEK, TESSERA_KEY_ENCRYPTION_KEY:
 * 32 random bytes in base64url). Two keys are derived from it with HKDF-SHA256,
 * one per purpose (distinct labels), so neither use can stand in for the other:
 *
 * - `signing-key`: private signing keys, AES-256-GCM, the key's kid as associated data;
 * - `client-secret`: the digests of client secrets (see ClientSecretHasher), AES-256-GCM.
 *
 * Envelope: `enc:v2:<kek id>:<iv>.<ciphertext>.<tag>`, each part base64url. The KEK id
 * (derived from the KEK, it reveals nothing of it) says which KEK a value is under, so
 * values can be re-encrypted under a new KEK while the previous one still reads them.
 *
 * Still read: a plaintext JWK (JSON, starts with `{`), and the `enc:v1:` envelope of
 * earlier versions (a key derived from a passphrase, no KEK id).
 */
export type EncryptionPurpose = 'signing-key' | 'client-secret';

const V2_SHAPE = /^enc:v2:([A-Za-z0-9_-]{11}):([A-Za-z0-9_-]{16})\.([A-Za-z0-9_-]*)\.([A-Za-z0-9_-]{22})$/;
const V1_SHAPE = /^enc:v1:([A-Za-z0-9_-]{16})\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]{22})$/;
const KEK_SHAPE = /^[A-Za-z0-9_-]{43}$/;
const SALT = 'tessera key encryption v2';

/** What TESSERA_KEY_ENCRYPTION_KEY must look like: 32 bytes in unpadded base64url (43 characters). */
export function isKeyEncryptionKey(value: string): boolean {
  return KEK_SHAPE.test(value) && Buffer.from(value, 'base64url').length === 32;
}

/** A new KEK, in the format TESSERA_KEY_ENCRYPTION_KEY takes. */
export function generateKeyEncryptionKey(): string {
  return randomBytes(32).toString('base64url');
}

class Kek {
  readonly id: string;
  private readonly keys: Record<EncryptionPurpose, Buffer>;

  constructor(material: Buffer) {
    const derive = (label: string, length: number) => Buffer.from(hkdfSync('sha256', material, SALT, label, length));
    this.id = derive('kek id', 8).toString('base64url');
    this.keys = { 'signing-key': derive('signing-key aes-256-gcm', 32), 'client-secret': derive('client-secret aes-256-gcm', 32) };
  }

  key(purpose: EncryptionPurpose): Buffer {
    return this.keys[purpose];
  }
}

export interface KeyEncryptionKeysOptions {
  /** TESSERA_KEY_ENCRYPTION_KEY: what new values are encrypted under. Unset: they are stored in clear. */
  current?: string;
  /** TESSERA_PREVIOUS_KEY_ENCRYPTION_KEY: still read, never written (while values are re-encrypted). */
  previous?: string;
}

/** The KEKs a process knows: the current one (encrypts and decrypts) and a previous one (decrypts only). */
export class KeyEncryptionKeys {
  private readonly current?: Kek;
  private readonly readable = new Map<string, Kek>();
  /** Passphrases of `enc:v1:` envelopes: any configured value, as earlier versions took it. */
  private readonly v1Secrets: string[];

  constructor(options: KeyEncryptionKeysOptions = {}) {
    for (const value of [options.current, options.previous]) {
      if (value === undefined || !isKeyEncryptionKey(value)) continue;
      const kek = new Kek(Buffer.from(value, 'base64url'));
      this.readable.set(kek.id, kek);
      if (value === options.current) this.current = kek;
    }
    if (options.current !== undefined && !this.current) throw new Error('TESSERA_KEY_ENCRYPTION_KEY must be 32 bytes in base64url');
    this.v1Secrets = [options.current, options.previous].filter((s): s is string => s !== undefined);
  }

  /** Whether new values are encrypted (a current KEK is set). */
  get encrypts(): boolean {
    return this.current !== undefined;
  }

  /** The id of the current KEK, if any. */
  get currentId(): string | undefined {
    return this.current?.id;
  }

  /** `plaintext` (text, or bytes) in an envelope under the current KEK; throws without one. */
  encrypt(purpose: EncryptionPurpose, plaintext: string | Buffer, associatedData = ''): string {
    if (!this.current) throw new Error('no key-encryption key to encrypt with (TESSERA_KEY_ENCRYPTION_KEY)');
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.current.key(purpose), iv);
    cipher.setAAD(Buffer.from(`${purpose}:${associatedData}`));
    const ciphertext = Buffer.concat([cipher.update(typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext), cipher.final()]);
    const parts = [iv, ciphertext, cipher.getAuthTag()].map((b) => b.toString('base64url'));
    return `enc:v2:${this.current.id}:${parts.join('.')}`;
  }

  /** Whether `stored` is an envelope (of any version), as opposed to a value in clear. */
  static isEnvelope(stored: string): boolean {
    return stored.startsWith('enc:');
  }

  /** Whether `stored` is an envelope under the current KEK (nothing to re-encrypt). */
  isCurrent(stored: string): boolean {
    const match = V2_SHAPE.exec(stored);
    return match !== null && match[1] === this.current?.id;
  }

  /** The plaintext (text) of an envelope; throws (with a message for the operator) when no known KEK opens it. */
  decrypt(purpose: EncryptionPurpose, stored: string, associatedData = ''): string {
    return this.decryptBytes(purpose, stored, associatedData).toString('utf8');
  }

  /** The plaintext (bytes) of an envelope. */
  decryptBytes(purpose: EncryptionPurpose, stored: string, associatedData = ''): Buffer {
    const v2 = V2_SHAPE.exec(stored);
    if (v2) {
      const kek = this.readable.get(v2[1]);
      if (!kek) {
        throw new Error(
          this.readable.size === 0
            ? `${what(purpose)} is encrypted but TESSERA_KEY_ENCRYPTION_KEY is missing`
            : `${what(purpose)} is encrypted under another key-encryption key (id ${v2[1]}): TESSERA_KEY_ENCRYPTION_KEY is wrong, or set the one it was encrypted with as TESSERA_PREVIOUS_KEY_ENCRYPTION_KEY`,
        );
      }
      const [iv, ciphertext, tag] = v2.slice(2).map((part) => Buffer.from(part, 'base64url'));
      try {
        return open(kek.key(purpose), iv, ciphertext, tag, Buffer.from(`${purpose}:${associatedData}`));
      } catch (cause) {
        throw new Error(`cannot decrypt ${what(purpose)}: it was altered`, { cause });
      }
    }
    const v1 = purpose === 'signing-key' ? V1_SHAPE.exec(stored) : null;
    if (v1) {
      if (this.v1Secrets.length === 0) throw new Error(`${what(purpose)} is encrypted but TESSERA_KEY_ENCRYPTION_KEY is missing`);
      const [iv, ciphertext, tag] = v1.slice(1).map((part) => Buffer.from(part, 'base64url'));
      for (const secret of this.v1Secrets) {
        const key = Buffer.from(hkdfSync('sha256', secret, 'tessera-signing-key-encryption', 'aes-256-gcm v1', 32));
        try {
          return open(key, iv, ciphertext, tag);
        } catch {
          // Try the next one.
        }
      }
      throw new Error(`cannot decrypt ${what(purpose)} (enc:v1): set the passphrase it was encrypted with as TESSERA_PREVIOUS_KEY_ENCRYPTION_KEY`);
    }
    throw new Error(`${what(purpose)} is not an enc:v2 or enc:v1 envelope`);
  }
}

function open(key: Buffer, iv: Buffer, ciphertext: Buffer, tag: Buffer, aad?: Buffer): Buffer {
  const decipher = createDecipheriv('aes-256-gcm', key, iv);
  if (aad) decipher.setAAD(aad);
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
}

function what(purpose: EncryptionPurpose): string {
  return purpose === 'signing-key' ? 'stored signing key' : 'stored client-secret hash';
}

/** The private JWK JSON of a stored signing key: a plaintext JWK as it is, an envelope decrypted. */
export function decryptPrivateKey(stored: string, kid: string, keys: KeyEncryptionKeys): string {
  if (stored.startsWith('{')) return stored;
  return keys.decrypt('signing-key', stored, kid);
}

/** How a private JWK is stored: encrypted under the current KEK, in clear without one. */
export function encryptPrivateKey(privateJwkJson: string, kid: string, keys: KeyEncryptionKeys): string {
  return keys.encrypts ? keys.encrypt('signing-key', privateJwkJson, kid) : privateJwkJson;
}
