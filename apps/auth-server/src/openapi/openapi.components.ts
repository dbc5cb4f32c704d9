// The shared parts of the OpenAPI description: headers, the OAuth error body (RFC 6749 §5.2), the error
// responses every endpoint shares, and the page responses. Operations (openapi.document.ts) refer to them.
import type { OAuthErrorCode } from '@tessera/oauth-core';
import type { Header, JsonSchema, MediaType, OpenApiDocument, Ref, Response } from './openapi.types.js';

export const schemaRef = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });
export const responseRef = (name: string): Ref => ({ $ref: `#/components/responses/${name}` });
export const headerRef = (name: string): Ref => ({ $ref: `#/components/headers/${name}` });

/** A safe description of each error code, as the server words one (shown in the examples). Exhaustive. */
const ERROR_EXAMPLES: Record<OAuthErrorCode, string> = {
  invalid_request: 'token is required',
  invalid_client: 'client authentication failed',
  invalid_grant: 'authorization code already used; the tokens issued from it are revoked',
  unauthorized_client: 'this client may not use the client_credentials grant',
  unsupported_grant_type: 'grant_type "password" is not supported',
  invalid_scope: 'scope not allowed for this client: admin',
  invalid_target: 'resource not allowed for this client',
  unsupported_token_type: 'this token type cannot be revoked',
  invalid_token: 'a valid initial access token is required',
  insufficient_scope: 'the token lacks a required scope',
  invalid_client_metadata: 'access_token_format must be "opaque" or "jwt"',
  invalid_redirect_uri: 'redirect_uris is required for the authorization_code grant',
  access_denied: 'only resource servers may read the revocation feed (see resource_server_for)',
  unsupported_response_type: 'response_type "token" is not supported; use "code"',
  server_error: 'an unexpected error occurred',
  temporarily_unavailable: 'the service is temporarily unavailable, try again later',
  too_many_requests: 'too many requests from this client, try again in 42 s',
};

/** An RFC 6749 §5.2 body whose `error` is one of `codes`, with an example of each (`descriptions` overrides theirs). */
export function oauthErrorContent(codes: readonly OAuthErrorCode[], descriptions: Partial<Record<OAuthErrorCode, string>> = {}): Record<string, MediaType> {
  return {
    'application/json': {
      schema: { ...schemaRef('OAuthError'), type: 'object', properties: { error: { enum: [...codes] } } },
      examples: Object.fromEntries(codes.map((code) => [code, { value: { error: code, error_description: descriptions[code] ?? ERROR_EXAMPLES[code] } }])),
    },
  };
}

/** What every OAuth error response carries besides its body (RFC 6749 §5.1: never cached). */
const NO_STORE_HEADERS = { 'Cache-Control': headerRef('CacheControlNoStore'), Pragma: headerRef('PragmaNoCache') };

/** A JSON error response of this endpoint: the status's codes, and the headers every error carries. */
export function oauthError(
  description: string,
  codes: readonly OAuthErrorCode[],
  headers: Record<string, Ref> = {},
  examples: Partial<Record<OAuthErrorCode, string>> = {},
): Response {
  return { description, headers: { ...NO_STORE_HEADERS, ...headers }, content: oauthErrorContent(codes, examples) };
}

/** The error responses of a JSON endpoint: 400 (and 403) with its own codes, plus the shared ones. */
export function oauthErrors(o: {
  badRequest?: readonly OAuthErrorCode[];
  /** 401: `basic` is invalid_client (client authentication), `bearer` is invalid_token (RFC 6750). */
  unauthorized?: 'basic' | 'bearer';
  forbidden?: readonly OAuthErrorCode[];
  /** POST endpoints also refuse a body that is too large (413) or of a media type with no parser (415). */
  body?: boolean;
  /** A rate-limited endpoint (TESSERA_RATE_LIMIT_*) answers 429 too_many_requests over a limit. */
  rateLimited?: boolean;
}): Record<string, Response | Ref> {
  return {
    ...(o.badRequest ? { '400': oauthError('The request is malformed or not allowed (RFC 6749 §5.2).', o.badRequest) } : {}),
    ...(o.unauthorized === 'basic' ? { '401': responseRef('InvalidClient') } : {}),
    ...(o.unauthorized === 'bearer' ? { '401': responseRef('InvalidToken') } : {}),
    ...(o.forbidden ? { '403': oauthError('The caller is authenticated but may not do this.', o.forbidden) } : {}),
    ...(o.body ? { '413': responseRef('PayloadTooLarge'), '415': responseRef('UnsupportedMediaType') } : {}),
    ...(o.rateLimited ? { '429': responseRef('TooManyRequests') } : {}),
    '500': responseRef('ServerError'),
    '503': responseRef('TemporarilyUnavailable'),
  };
}

/** A page of the sign-in and consent flow (HTML for a person, never an API). */
export function page(description: string, headers: Record<string, Ref> = {}): Response {
  return {
    description,
    headers: { 'Content-Security-Policy': headerRef('ContentSecurityPolicy'), 'Cache-Control': headerRef('CacheControlNoStore'), ...headers },
    content: { 'text/html': { schema: { type: 'string', contentMediaType: 'text/html' } } },
  };
}

/**
 * The error pages every page route shares. A body refused before it reaches the page (too large, or a
 * media type with no parser) is answered by the server's one error writer, as JSON, like any endpoint's.
 */
export function pageErrors(o: { body?: boolean } = {}): Record<string, Response | Ref> {
  return {
    '400': page('The request cannot be completed: an error page (never a redirect to an unverified address).'),
    ...(o.body ? { '413': responseRef('PayloadTooLarge'), '415': responseRef('UnsupportedMediaType') } : {}),
    '500': page('Something went wrong: an error page; the cause is logged, never shown.'),
    '503': page('The database is unavailable or the server is stopping: an error page.', { 'Retry-After': headerRef('RetryAfter') }),
  };
}

/** A redirect (`Location`), never cached. */
export function redirect(description: string): Response {
  return { description, headers: { Location: headerRef('Location'), 'Cache-Control': headerRef('CacheControlNoStore') } };
}

const HEADERS: Record<string, Header> = {
  CacheControlNoStore: { description: 'RFC 6749 §5.1: responses with tokens, credentials or errors are never cached.', required: true, schema: { const: 'no-store' } },
  PragmaNoCache: { description: 'For HTTP/1.0 caches.', required: true, schema: { const: 'no-cache' } },
  CacheControlPublic: { description: 'Public, cached for five minutes (a rotated key reaches verifiers quickly).', required: true, schema: { const: 'public, max-age=300' } },
  RetryAfter: { description: 'Seconds to wait before trying again.', required: true, schema: { type: 'string', pattern: '^[0-9]+$' } },
  WWWAuthenticateBasic: {
    description: 'RFC 6749 §5.2: the client authentication scheme to use.',
    required: true,
    schema: { type: 'string', pattern: '^Basic realm="[^"]*"$', examples: ['Basic realm="tessera"'] },
  },
  WWWAuthenticateBearer: {
    description: 'RFC 6750 §3: the bearer challenge, with the error; without it when the request carried no bearer token at all (§3.1).',
    required: true,
    schema: { type: 'string', pattern: '^Bearer realm="[^"]*"(, error="invalid_token", error_description="[^"]*")?$' },
  },
  Location: { description: 'Where the browser goes next.', required: true, schema: { type: 'string', minLength: 1 } },
  ContentSecurityPolicy: {
    description: 'Pages run no script and load nothing from elsewhere.',
    required: true,
    schema: { type: 'string', pattern: "^default-src 'none';" },
  },
};

const SCHEMAS: Record<string, JsonSchema> = {
  OAuthError: {
    description: 'RFC 6749 §5.2 error response. `error_description` is safe to show; the cause of an error is logged, never sent.',
    type: 'object',
    required: ['error', 'error_description'],
    properties: {
      error: { type: 'string', description: 'The RFC error code.' },
      error_description: { type: 'string', description: 'What went wrong, in English, for the developer.' },
    },
    additionalProperties: false,
  },
  Scope: { type: 'string', description: 'RFC 6749 §3.3: space-separated scope tokens.', pattern: '^[\\x21\\x23-\\x5B\\x5D-\\x7E]+( [\\x21\\x23-\\x5B\\x5D-\\x7E]+)*$', examples: ['reports:read reports:write'] },
  ResourceIndicator: { type: 'string', description: 'RFC 8707: an absolute URI without a fragment, the audience of the token.', examples: ['https://api.example.com'] },
  Audience: { description: 'One audience, or several.', oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' }, minItems: 2 }] },
  EpochSeconds: { type: 'integer', minimum: 0, description: 'Seconds since 1970-01-01T00:00:00Z.' },
};

const RESPONSES: Record<string, Response> = {
  InvalidClient: oauthError('Client authentication failed (unknown client, wrong secret, disabled client, or a method this endpoint does not accept).', ['invalid_client'], {
    'WWW-Authenticate': headerRef('WWWAuthenticateBasic'),
  }),
  InvalidToken: oauthError('The bearer token is missing or wrong (RFC 6750 §3.1).', ['invalid_token'], { 'WWW-Authenticate': headerRef('WWWAuthenticateBearer') }),
  PayloadTooLarge: oauthError('The body is larger than TESSERA_BODY_LIMIT.', ['invalid_request'], {}, { invalid_request: 'the request body is too large' }),
  UnsupportedMediaType: oauthError('The body has a media type the server cannot parse.', ['invalid_request'], {}, { invalid_request: 'unsupported content type' }),
  TooManyRequests: oauthError(
    'Over a rate limit of this endpoint, per authenticated client or per address, shared by every instance (`TESSERA_RATE_LIMIT_*`).',
    ['too_many_requests'],
    { 'Retry-After': headerRef('RetryAfter') },
  ),
  ServerError: oauthError('An unexpected error; its cause is logged, never sent.', ['server_error']),
  TemporarilyUnavailable: oauthError('PostgreSQL is unavailable, or this instance is stopping (retry, on a new connection).', ['temporarily_unavailable'], {
    'Retry-After': headerRef('RetryAfter'),
  }),
};

export function sharedComponents(): Pick<OpenApiDocument['components'], 'headers' | 'responses'> & { schemas: Record<string, JsonSchema> } {
  return { headers: HEADERS, responses: RESPONSES, schemas: SCHEMAS };
}
