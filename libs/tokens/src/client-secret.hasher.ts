import { createHmac, timingSafeEqual } from 'node:crypto';
import { SecretHasher } from '@tessera/oauth-core';

const PREFIX = 'hmac-sha256$';
const HASH_SHAPE = /^hmac-sha256\$([A-Za-z0-9_-]{43})$/;

/**
 * Client secrets are server-generated and high-entropy, so a keyed hash is
 * enough (no slow KDF). The pepper keeps a leaked table useless without it.
 */
export class ClientSecretHasher extends SecretHasher {
  constructor(private readonly pepper = 'tessera-client-secret-v1') {
    super();
  }

  hash(secret: string): string {
    return PREFIX + this.mac(secret).toString('base64url');
  }

  verify(secret: string, hash: string): boolean {
    const match = HASH_SHAPE.exec(hash);
    if (!match) return false;
    const expected = Buffer.from(match[1], 'base64url');
    const actual = this.mac(secret);
    return expected.length === actual.length && timingSafeEqual(expected, actual);
  }

  private mac(secret: string): Buffer {
    return createHmac('sha256', this.pepper).update(secret).digest();
  }
}
