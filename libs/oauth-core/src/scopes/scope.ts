import { OAuthError } from '../errors/oauth-error.js';

// RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

export function isScopeToken(value: string): boolean {
  return SCOPE_TOKEN.test(value);
}

/** Parses a space-delimited scope string; throws `onError` for a malformed one. Duplicates collapse. */
export function parseScope(value: string | undefined, onError: (d: string) => OAuthError = OAuthError.invalidScope): string[] {
  if (value === undefined) return [];
  const tokens = value.split(' ');
  if (!tokens.every(isScopeToken)) throw onError('scope must be scope tokens separated by single spaces');
  return [...new Set(tokens)];
}

export function formatScope(scopes: readonly string[]): string {
  return scopes.join(' ');
}

/** RFC 6749 §3.3: the requested scopes, each allowed; none requested means the client's registered default. */
export function grantedScopes(requested: string[], allowed: readonly string[]): string[] {
  if (requested.length === 0) return [...allowed];
  const denied = requested.filter((s) => !allowed.includes(s));
  if (denied.length > 0) throw OAuthError.invalidScope(`scope not allowed for this client: ${denied.join(' ')}`);
  return requested;
}
