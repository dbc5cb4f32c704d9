// RFC 6750 §2.1: the bearer token of an Authorization header, for the endpoints that take one (registration and
// client configuration). Anything else, or nothing, is an invalid_token (401 with a Bearer challenge).
import { OAuthError } from '../errors/oauth-error.js';

export function bearerToken(authorization: string | undefined, missing: string): string {
  const match = /^Bearer ([\x21-\x7E]+)$/.exec(authorization?.trim() ?? '');
  if (!match) throw OAuthError.invalidToken(missing);
  return match[1];
}
