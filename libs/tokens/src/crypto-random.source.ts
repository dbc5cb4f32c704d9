import { randomBytes } from 'node:crypto';
import { RandomSource } from '@tessera/oauth-core';

export class CryptoRandomSource extends RandomSource {
  token(byteLength: number): string {
    return randomBytes(byteLength).toString('base64url');
  }
}
