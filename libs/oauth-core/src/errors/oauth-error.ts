/**
 * The one error type of the protocol core. `code` is the RFC error code sent
 * on the wire, `description` is safe to show to the client, and `cause` stays
 * private (logged, never sent).
 */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'invalid_target'
  | 'unsupported_token_type'
  | 'invalid_token'
  | 'insufficient_scope'
  | 'invalid_client_metadata'
  | 'invalid_redirect_uri'
  | 'access_denied'
  | 'unsupported_response_type'
  | 'server_error'
  | 'temporarily_unavailable'
  | 'too_many_requests';

/** HTTP status of each code. Exhaustive: a new code does not compile until it has one. */
export const OAUTH_ERROR_STATUS: Record<OAuthErrorCode, number> = {
  invalid_request: 400,
  invalid_client: 401,
  invalid_grant: 400,
  unauthorized_client: 400,
  unsupported_grant_type: 400,
  invalid_scope: 400,
  invalid_target: 400,
  unsupported_token_type: 400,
  invalid_token: 401,
  insufficient_scope: 403,
  invalid_client_metadata: 400,
  invalid_redirect_uri: 400,
  access_denied: 403,
  unsupported_response_type: 400,
  server_error: 500,
  temporarily_unavailable: 503,
  too_many_requests: 429,
};

export interface OAuthErrorOptions {
  cause?: unknown;
  /** For invalid_client: the HTTP authentication scheme the client tried (`Basic`), echoed in WWW-Authenticate. */
  authScheme?: string;
  /** For too_many_requests: seconds until the caller may try again, sent as Retry-After. */
  retryAfterSeconds?: number;
  /**
   * For invalid_token: the request carried no bearer token at all, so the challenge names no error (RFC 6750
   * §3.1: "the resource server SHOULD NOT include an error code or other error information").
   */
  noCredentials?: boolean;
}

export class OAuthError extends Error {
  readonly status: number;
  readonly authScheme?: string;
  readonly retryAfterSeconds?: number;
  readonly noCredentials?: boolean;

  constructor(
    readonly code: OAuthErrorCode,
    readonly description: string,
    options: OAuthErrorOptions = {},
  ) {
    super(`${code}: ${description}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'OAuthError';
    this.status = OAUTH_ERROR_STATUS[code];
    this.authScheme = options.authScheme;
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.noCredentials = options.noCredentials;
  }

  static invalidRequest(description: string, cause?: unknown) {
    return new OAuthError('invalid_request', description, { cause });
  }
  static invalidClient(description = 'client authentication failed', authScheme?: string) {
    return new OAuthError('invalid_client', description, { authScheme });
  }
  static invalidGrant(description: string) {
    return new OAuthError('invalid_grant', description);
  }
  static unauthorizedClient(description: string) {
    return new OAuthError('unauthorized_client', description);
  }
  static unsupportedGrantType(grantType: string) {
    return new OAuthError('unsupported_grant_type', `grant_type "${grantType}" is not supported`);
  }
  static invalidScope(description: string) {
    return new OAuthError('invalid_scope', description);
  }
  static invalidTarget(description: string) {
    return new OAuthError('invalid_target', description);
  }
  static invalidClientMetadata(description: string) {
    return new OAuthError('invalid_client_metadata', description);
  }
  static invalidRedirectUri(description: string) {
    return new OAuthError('invalid_redirect_uri', description);
  }
  static accessDenied(description: string) {
    return new OAuthError('access_denied', description);
  }
  static unsupportedResponseType(responseType: string) {
    return new OAuthError('unsupported_response_type', `response_type "${responseType}" is not supported; use "code"`);
  }
  static invalidToken(description: string) {
    return new OAuthError('invalid_token', description);
  }
  /** No bearer token was presented (RFC 6750 §3.1): invalid_token, whose challenge carries no error code. */
  static missingToken(description: string) {
    return new OAuthError('invalid_token', description, { noCredentials: true });
  }
  static temporarilyUnavailable(cause?: unknown) {
    return new OAuthError('temporarily_unavailable', 'the service is temporarily unavailable, try again later', { cause });
  }
  /** The caller used up its rate limit (`whose`: "client" or "address"); it may try again in `retryAfterSeconds`. */
  static tooManyRequests(whose: string, retryAfterSeconds: number) {
    return new OAuthError('too_many_requests', `too many requests from this ${whose}, try again in ${retryAfterSeconds} s`, { retryAfterSeconds });
  }
  static serverError(cause?: unknown) {
    return new OAuthError('server_error', 'an unexpected error occurred', { cause });
  }
}
