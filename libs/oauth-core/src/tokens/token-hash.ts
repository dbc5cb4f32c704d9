import * as crypto from 'node:crypto';

/** SHA-256 of a token, base64url without padding: how opaque tokens, refresh tokens and codes are stored and looked up. */
export function hashToken(token: string): string {
  // The one-shot crypto.hash (Node 20.12+) takes half the time of a Hash object: this runs on every guarded request.
  return typeof crypto.hash === 'function' ? crypto.hash('sha256', token, 'base64url') : crypto.createHash('sha256').update(token).digest('base64url');
}
