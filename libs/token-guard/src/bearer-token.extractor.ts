// RFC 6750 §2: how a client sends a bearer token. We support the Authorization header (§2.1)
// and, when allowed, the `access_token` query parameter (§2.3); never both at once.
import { OAuthError } from '@tessera/oauth-core';

/** §2.1 b64token. */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

export interface BearerTokenSources {
  /** The Authorization header, if any. */
  authorization: string | undefined;
  /** The request target (path and query). */
  url: string;
}

/**
 * The bearer token of a request; undefined when it carries none (RFC 6750 §3.1:
 * answered without an error code). Throws `invalid_request` when the request
 * is malformed: a broken Bearer header, a refused or repeated query token, or two methods.
 */
export function extractBearerToken(sources: BearerTokenSources, allowQueryToken: boolean): string | undefined {
  const fromHeader = bearerCredentials(sources.authorization);
  // Parsing the URL costs more than the rest of a cached check: only when it may hold the parameter.
  if (!sources.url.includes('access_token')) return fromHeader;
  const fromQuery = new URL(sources.url, 'http://localhost').searchParams.getAll('access_token');
  if (fromQuery.length === 0) return fromHeader;
  if (!allowQueryToken) throw OAuthError.invalidRequest('access tokens are not accepted in the query string');
  if (fromHeader !== undefined) throw OAuthError.invalidRequest('more than one method was used to send the access token');
  if (fromQuery.length > 1) throw OAuthError.invalidRequest('the access_token parameter is repeated');
  if (!B64TOKEN.test(fromQuery[0])) throw OAuthError.invalidRequest('malformed access_token parameter');
  return fromQuery[0];
}

/**
 * What follows `Bearer ` in an Authorization header, unchecked: only for looking up a token verified
 * before (a cache holds only tokens that passed `extractBearerToken`), so the common case skips the checks.
 */
export function bearerCredentialsAsSent(header: string): string | undefined {
  return header.length > 7 && header.charCodeAt(6) === 0x20 && header.slice(0, 6).toLowerCase() === 'bearer' ? header.slice(7) : undefined;
}

/** The b64token of a `Bearer` Authorization header (scheme compared case-insensitively); undefined for no header or another scheme. */
function bearerCredentials(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const space = header.indexOf(' ');
  const scheme = space < 0 ? header : header.slice(0, space);
  if (scheme.toLowerCase() !== 'bearer') return undefined;
  const credentials = space < 0 ? '' : header.slice(space + 1).replace(/^ +/, '');
  if (!B64TOKEN.test(credentials)) throw OAuthError.invalidRequest('malformed Bearer authorization header');
  return credentials;
}
