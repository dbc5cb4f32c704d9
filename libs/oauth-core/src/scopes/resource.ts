import type { Client } from '../domain/client.js';
import { OAuthError } from '../errors/oauth-error.js';

/** RFC 8707 §2: an absolute URI without a fragment. */
export function isResourceIndicator(value: string): boolean {
  if (value.includes('#') || !URL.canParse(value)) return false;
  return /^[A-Za-z][A-Za-z0-9+.-]*:/.test(value);
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
