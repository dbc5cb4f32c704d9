import { createHash, hash as sha, timingSafeEqual } from 'node:crypto';
import { SecretHasher } from '@tessera/oauth-core';
import { KeyEncryptionKeys } from './key-encryption.js';

const PREFIX = 'hmac-sha256$';
const PLAIN_SHAPE = /^hmac-sha256\$([A-Za-z0-9_-]{43})$/;
const SEALED_SHAPE = /^hmac-sha256\$(enc:v2:.+)$/;
const DIGEST_BYTES = 32;
/** How many opened digests are kept (one per client that authenticates); past it, the cache starts over. */
const MAX_OPENED = 10_000;
/** The HMAC key of every version so far; TESSERA_CLIENT_SECRET_PEPPER replaced it where it was set. */
export const BUILT_IN_PEPPER = 'tessera-client-secret-v1';

export interface ClientSecretHasherOptions {
  /** TESSERA_CLIENT_SECRET_PEPPER, when it was set: the HMAC key of the digest. Default: the built-in one. */
  pepper?: string;
  /** The key-encryption keys: with a current one, digests are stored encrypted under it. */
  keys?: KeyEncryptionKeys;
}

/**
 * Client secrets are server-generated and high-entropy, so a keyed hash is
 * enough (no slow KDF): the digest is HMAC-SHA256 of the secret.
 *
 * With a key-encryption key, the digest is stored encrypted under a key derived
 * from it (`hmac-sha256$enc:v2:<kek id>:…`): the secret pepper comes from the
 * KEK, so a copy of the table is useless without it. Encryption rather than a
 * second HMAC key, so that a digest can be moved to a new KEK, or a digest of
 * earlier versions (`hmac-sha256$<digest>`, under the built-in public pepper)
 * sealed, without knowing the secret (`keys re-encrypt`); the authenticator
 * also rewrites an old one at the next successful authentication (`needsRehash`).
 */
export class ClientSecretHasher extends SecretHasher {
  /** HMAC-SHA256 under the pepper. */
  private readonly pepper: HmacSha256;
  private readonly keys: KeyEncryptionKeys;
  /** Digests of sealed hashes already opened: each client authentication would otherwise decrypt its hash again. */
  private readonly opened = new Map<string, Buffer>();

  constructor(options: ClientSecretHasherOptions | string = {}) {
    super();
    const { pepper, keys } = typeof options === 'string' ? { pepper: options, keys: undefined } : options;
    this.pepper = new HmacSha256(Buffer.from(pepper ?? BUILT_IN_PEPPER, 'utf8'));
    this.keys = keys ?? new KeyEncryptionKeys();
  }

  hash(secret: string): string {
    return this.store(this.mac(secret));
  }

  verify(secret: string, hash: string): boolean {
    const expected = this.digestOf(hash);
    if (expected === null) return false;
    const actual = this.mac(secret);
    return expected.length === actual.length && timingSafeEqual(expected, actual);
  }

  /** A hash not stored the way `hash` stores one now: in clear while a KEK is set, or under another KEK. */
  override needsRehash(hash: string): boolean {
    return this.keys.encrypts && !this.keys.isCurrent(hash.slice(PREFIX.length));
  }

  /**
   * The same hash stored the current way, without the secret: a digest in clear sealed under the current KEK,
   * one under a previous KEK moved to the current one. Throws when no known KEK opens it.
   */
  reseal(hash: string): string {
    const plain = PLAIN_SHAPE.exec(hash);
    if (plain) return this.store(Buffer.from(plain[1], 'base64url'));
    const sealed = SEALED_SHAPE.exec(hash);
    if (!sealed) throw new Error('not a client-secret hash');
    const digest = this.keys.decryptBytes('client-secret', sealed[1]);
    if (digest.length !== DIGEST_BYTES) throw new Error('not a client-secret hash');
    return this.store(digest);
  }

  /** The stored form of a digest: sealed under the current KEK (the raw 32 bytes, so it fits 128 characters), else base64url. */
  private store(digest: Buffer): string {
    return PREFIX + (this.keys.encrypts ? this.keys.encrypt('client-secret', digest) : digest.toString('base64url'));
  }

  /** The digest a stored hash holds; null when it is malformed or sealed under an unknown KEK. */
  private digestOf(hash: string): Buffer | null {
    const known = this.opened.get(hash);
    if (known) return known;
    let digest: Buffer;
    const plain = PLAIN_SHAPE.exec(hash);
    if (plain) digest = Buffer.from(plain[1], 'base64url');
    else {
      const sealed = SEALED_SHAPE.exec(hash);
      if (!sealed) return null;
      try {
        digest = this.keys.decryptBytes('client-secret', sealed[1]);
      } catch {
        return null;
      }
      if (digest.length !== DIGEST_BYTES) return null;
    }
    // A stored hash holds the same digest for as long as this hasher lives (its keys never change).
    if (this.opened.size >= MAX_OPENED) this.opened.clear();
    this.opened.set(hash, digest);
    return digest;
  }

  private mac(secret: string): Buffer {
    return this.pepper.mac(secret);
  }
}

/** The block size of SHA-256, in bytes (RFC 2104's B). */
const BLOCK = 64;
/** Secrets up to this many UTF-8 bytes are hashed in a buffer kept for it (a generated secret is 43 characters). */
const SCRATCH = 256;

/**
 * HMAC-SHA256 (RFC 2104: H(K ^ opad || H(K ^ ipad || m))) by two one-shot `crypto.hash` calls, with the padded keys
 * computed once: node:crypto's `createHmac` builds an Hmac object (and a native one behind it, freed by the garbage
 * collector) for every message, which cost a few times as much per client authentication here. Checked against
 * `createHmac` in the tests (RFC 4231's vectors too).
 */
export class HmacSha256 {
  /** K ^ ipad, then room for the message. */
  private readonly inner = Buffer.alloc(BLOCK + SCRATCH);
  /** K ^ opad, then the inner digest. */
  private readonly outer = Buffer.alloc(BLOCK + 32);
  private readonly innerPad: Buffer;

  constructor(key: Buffer) {
    const block = Buffer.alloc(BLOCK);
    (key.length > BLOCK ? createHash('sha256').update(key).digest() : key).copy(block);
    for (let i = 0; i < BLOCK; i++) {
      this.inner[i] = block[i] ^ 0x36;
      this.outer[i] = block[i] ^ 0x5c;
    }
    this.innerPad = Buffer.from(this.inner.subarray(0, BLOCK));
  }

  mac(message: string): Buffer {
    const length = Buffer.byteLength(message, 'utf8');
    let innerDigest: Buffer;
    if (length <= SCRATCH) {
      this.inner.write(message, BLOCK, 'utf8');
      innerDigest = sha('sha256', this.inner.subarray(0, BLOCK + length), 'buffer');
      this.inner.fill(0, BLOCK, BLOCK + length); // the secret is not kept
    } else {
      innerDigest = createHash('sha256').update(this.innerPad).update(message, 'utf8').digest();
    }
    innerDigest.copy(this.outer, BLOCK);
    return sha('sha256', this.outer, 'buffer');
  }
}
