import type { Client } from '../domain/client.js';
import { OAuthError } from '../errors/oauth-error.js';

/** RFC 3986 §2: unreserved, reserved and percent-encoded octets; no space, control or non-ASCII character. */
const URI_CHARACTERS = /^(?:[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})+$/;

/**
 * An absolute URI as RFC 3986 §4.3 writes it, as typed (WHATWG URL parsing alone would
 * silently drop tabs and newlines and trim controls, so the stored string could differ
 * from the one that was checked).
 */
export function isAbsoluteUri(value: string): boolean {
  return URI_CHARACTERS.test(value) && /^[A-Za-z][A-Za-z0-9+.-]*:/.test(value) && URL.canParse(value);
}

/** RFC 8707 §2: an absolute URI without a fragment. */
export function isResourceIndicator(value: string): boolean {
  return isAbsoluteUri(value) && !value.includes('#');
}

/**
 * The audiences of a token: the requested resources (RFC 8707), each one the
 * client may use; with none requested, the client's registered resources, or
 * the issuer itself when it has none. A client with no registered resources
 * may name any resource.
 */
export function resolveAudience(requested: string[], client: Pick<Client, 'resources'>, issuer: string): string[] {
  for (const r of requested) {
    if (!isResourceIndicator(r)) throw OAuthError.invalidTarget('resource must be an absolute URI without a fragment');
  }
  if (requested.length === 0) return client.resources.length > 0 ? [...client.resources] : [issuer];
  if (client.resources.length > 0) {
    const denied = requested.filter((r) => !client.resources.includes(r));
    if (denied.length > 0) throw OAuthError.invalidTarget('resource not allowed for this client');
  }
  return [...new Set(requested)];
}
