// RFC 6750 §3: the WWW-Authenticate challenge of a protected resource.

export interface BearerChallenge {
  realm: string;
  /** §3.1 code; left out when the request carried no token at all. */
  error?: 'invalid_request' | 'invalid_token' | 'insufficient_scope';
  errorDescription?: string;
  /** The scopes the resource requires (for insufficient_scope). */
  scope?: string[];
}

/** `Bearer realm="…", error="…", error_description="…", scope="…"` with only the members given. */
export function bearerChallenge(challenge: BearerChallenge): string {
  const params: [string, string | undefined][] = [
    ['realm', challenge.realm],
    ['error', challenge.error],
    ['error_description', challenge.errorDescription],
    ['scope', challenge.scope?.join(' ')],
  ];
  return `Bearer ${params
    .filter((p): p is [string, string] => p[1] !== undefined)
    .map(([name, value]) => `${name}="${quotable(value)}"`)
    .join(', ')}`;
}

/**
 * Printable ASCII without `"` and `\`: all that §3 allows in error_description
 * and scope, and safe in a quoted-string realm. Anything else (a control
 * character would even make Node refuse the header) is dropped.
 */
function quotable(value: string): string {
  return value.replace(/[^\x20-\x21\x23-\x5B\x5D-\x7E]/g, '');
}
