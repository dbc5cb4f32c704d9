// RFC 6750 §2.1: the bearer token of an Authorization header, for the endpoints that take one (registration and
// client configuration). Anything else, or nothing, is an invalid_token (401 with a Bearer challenge). The scheme
// name is case-insensitive (RFC 9110 §11.1): `bearer` is as good as `Bearer`.
import { OAuthError } from '../errors/oauth-error.js';

export function bearerToken(authorization: string | undefined, missing: string): string {
  const header = authorization?.trim() ?? '';
  const match = /^Bearer ([\x21-\x7E]+)$/i.exec(header);
  if (match) return match[1];
  // No header, an empty one, or another scheme: no bearer token at all (RFC 6750 §3.1: a challenge without an error).
  if (!/^Bearer\s+\S/i.test(header)) throw OAuthError.missingToken(missing);
  throw OAuthError.invalidToken(missing);
}
