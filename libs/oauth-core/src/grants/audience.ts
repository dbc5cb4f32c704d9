import { OAuthError } from '../errors/oauth-error.js';
import { isResourceIndicator } from '../scopes/resource.js';

/** RFC 8707 §2.2: at the token endpoint, `resource` may only narrow the audience the user granted. */
export function narrowAudience(requested: string[], granted: string[]): string[] {
  if (requested.length === 0) return [...granted];
  for (const r of requested) {
    if (!isResourceIndicator(r)) throw OAuthError.invalidTarget('resource must be an absolute URI without a fragment');
    if (!granted.includes(r)) throw OAuthError.invalidTarget('resource was not granted');
  }
  return [...new Set(requested)];
}
