/** What the pages read of the configuration. */
export const PAGES_CONFIG = Symbol('PAGES_CONFIG');

export interface PagesConfig {
  issuer: string;
  scopeDescriptions: Record<string, string>;
}

/** Where a sign-in may send the browser back to: the authorization endpoint, on this server, and nowhere else (no open redirect). */
export function isReturnTo(value: string | undefined): value is string {
  return value !== undefined && value.length <= 8192 && /^\/oauth2\/authorize\?[\x21-\x7e]*$/.test(value);
}

/** The sign-in page, returning to the authorization request with this query once signed in. */
export function signInLocation(authorizeQuery: string): string {
  return `/login?${new URLSearchParams({ return_to: `/oauth2/authorize?${authorizeQuery}` })}`;
}
