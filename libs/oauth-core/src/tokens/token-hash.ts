import { createHash } from 'node:crypto';

/** SHA-256 of a token, base64url without padding: how opaque tokens, refresh tokens and codes are stored and looked up. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}
