import { randomBytes } from 'node:crypto';
import { RandomSource } from '@tessera/oauth-core';

/** Bytes drawn from the CSPRNG at once: one call per 4 KiB instead of one per token (the call itself, not the bytes, is what costs). */
const POOL_BYTES = 4096;

export class CryptoRandomSource extends RandomSource {
  private pool = Buffer.alloc(0);
  private offset = 0;

  token(byteLength: number): string {
    if (byteLength > POOL_BYTES / 8) return randomBytes(byteLength).toString('base64url');
    if (this.offset + byteLength > this.pool.length) {
      this.pool = randomBytes(POOL_BYTES);
      this.offset = 0;
    }
    const bytes = this.pool.subarray(this.offset, this.offset + byteLength);
    this.offset += byteLength;
    const token = bytes.toString('base64url');
    bytes.fill(0); // each byte serves once
    return token;
  }
}
