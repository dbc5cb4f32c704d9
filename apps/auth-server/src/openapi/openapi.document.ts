// The OpenAPI 3.1 description of the auth server, written by hand so that it says what the endpoints really
// take: forms, HTTP Basic or form-post client authentication, the exact OAuth error codes of each endpoint.
//
// To add an operation: add it to `paths` below (one entry, keyed by its ENDPOINT_PATHS or route path), with
// `oauthErrors({...})` or `pageErrors()` for its errors and shared schemas from openapi.components.ts.
// test/openapi.int-spec.ts fails while a route the app registers is not described here.
import { ENDPOINT_PATHS, type TokenEndpointAuthMethod } from '@tessera/oauth-core';
import {
  headerRef,
  oauthErrors,
  page,
  pageErrors,
  redirect,
  responseRef,
  schemaRef,
  sharedComponents,
} from './openapi.components.js';
import type { JsonSchema, OpenApiDocument, Parameter, PathItem, SecurityRequirement } from './openapi.types.js';

/** Where the description and its page are served. */
export const OPENAPI_PATHS = { document: '/openapi.json', docs: '/docs', docsStylesheet: '/docs/docs.css' } as const;

/** What the description depends on: what this server has enabled. */
export interface OpenApiOptions {
  issuer: string;
  version: string;
  /** The registered grants, with the parameters each reads (`Grant.parameters`). */
  grants: readonly { grantType: string; parameters: readonly string[] }[];
  registration: boolean;
  /** The authorization endpoint and its sign-in and consent pages. */
  authorization: boolean;
  /** What each endpoint's client authentication accepts (`acceptedAuthMethods` of its policy). */
  clientAuthMethods: { token: TokenEndpointAuthMethod[]; introspection: TokenEndpointAuthMethod[]; revocation: TokenEndpointAuthMethod[] };
  /** The sign-in session cookie's name (`__Host-` prefixed over https). */
  sessionCookie: string;
  /** Rate limits are on (TESSERA_RATE_LIMITS): the token, introspection, revocation and registration endpoints answer 429. */
  rateLimited: boolean;
  /** GET /metrics is served on this port (null: TESSERA_AUTH_METRICS_PORT puts it on a port of its own). */
  metrics: boolean;
}

/** The form parameters of each grant at the token endpoint, besides grant_type and client authentication. */
export const GRANT_PARAMETERS: Record<string, { description: string; required: string[]; properties: Record<string, JsonSchema> }> = {
  client_credentials: {
    description: 'RFC 6749 §4.4: a confidential client asks for a token for itself.',
    required: [],
    properties: {
      scope: { ...schemaRef('Scope'), description: 'The scopes wanted; default: all of the client\'s registered scopes.' },
      resource: resourceParameter(),
    },
  },
  authorization_code: {
    description: 'RFC 6749 §4.1.3 with PKCE (RFC 7636, S256): redeems a code from the authorization endpoint, once.',
    required: ['code', 'redirect_uri', 'code_verifier'],
    properties: {
      code: { type: 'string', pattern: '^tsr_ac_[A-Za-z0-9_-]{43}$', description: 'The authorization code.' },
      redirect_uri: { type: 'string', description: 'Exactly the redirect_uri of the authorization request.' },
      code_verifier: { type: 'string', pattern: '^[A-Za-z0-9._~-]{43,128}$', description: 'RFC 7636 §4.1: the secret whose S256 hash was the code_challenge.' },
      resource: resourceParameter('A subset of the resources of the authorization request.'),
    },
  },
  refresh_token: {
    description: 'RFC 6749 §6: a new access token and a new refresh token (the old one is rotated; reusing it revokes the grant).',
    required: ['refresh_token'],
    properties: {
      refresh_token: { type: 'string', pattern: '^tsr_rt_[A-Za-z0-9_-]{43}$' },
      scope: { ...schemaRef('Scope'), description: 'A subset of the granted scopes; default: all of them.' },
      resource: resourceParameter('A subset of the granted resources.'),
    },
  },
};

function resourceParameter(description = 'RFC 8707: the audience wanted; repeat for several. Default: the client\'s registered resources, or the issuer.'): JsonSchema {
  return { type: 'array', items: schemaRef('ResourceIndicator'), description };
}

/** client_id and client_secret in the form: client_secret_post, or client_id alone for a public client (`none`). */
function formClientAuth(methods: TokenEndpointAuthMethod[]): Record<string, JsonSchema> {
  const inForm = methods.includes('client_secret_post') || methods.includes('none');
  if (!inForm) return {};
  const ways = [methods.includes('client_secret_post') && 'client_secret_post', methods.includes('none') && '`none` (a public client)'].filter(Boolean).join(' or ');
  return {
    client_id: { type: 'string', description: `${ways}: the client. With HTTP Basic, may be repeated here if it is the same.` },
    ...(methods.includes('client_secret_post')
      ? { client_secret: { type: 'string', description: 'client_secret_post: the secret (never together with HTTP Basic).', writeOnly: true } }
      : {}),
  };
}

/** Basic, or (`{}`) the credentials in the form: client_secret_post, or client_id alone for a public client. */
function clientSecurity(methods: TokenEndpointAuthMethod[]): SecurityRequirement[] {
  return [
    ...(methods.includes('client_secret_basic') ? [{ client_secret_basic: [] }] : []),
    ...(methods.some((m) => m !== 'client_secret_basic') ? [{}] : []),
  ];
}

function clientAuthText(methods: TokenEndpointAuthMethod[]): string {
  const words: Record<TokenEndpointAuthMethod, string> = {
    client_secret_basic: '`client_secret_basic` (HTTP Basic, id and secret form-encoded first, RFC 6749 §2.3.1)',
    client_secret_post: '`client_secret_post` (`client_id` and `client_secret` in the form)',
    none: '`none` (a public client: `client_id` in the form, no secret)',
  };
  return `Client authentication, exactly one method per request, the one the client registered: ${methods.map((m) => words[m]).join(', ')}.`;
}

const FORM = 'application/x-www-form-urlencoded';
const repeatable = { resource: { style: 'form' as const, explode: true } };

function formBody(description: string, properties: Record<string, JsonSchema>, required: string[]): JsonSchema {
  return { type: 'object', description, required, properties, additionalProperties: false };
}

export function openApiDocument(o: OpenApiOptions): OpenApiDocument {
  const { schemas, responses, headers } = sharedComponents();
  const grantTypes = o.grants.map((g) => g.grantType);
  const tokenRequest = (grantType: string): JsonSchema => {
    const grant = GRANT_PARAMETERS[grantType] ?? { description: `The ${grantType} grant.`, required: [], properties: {} };
    return formBody(
      grant.description,
      { grant_type: { const: grantType }, ...grant.properties, ...formClientAuth(o.clientAuthMethods.token) },
      ['grant_type', ...grant.required],
    );
  };
  const noStore = { 'Cache-Control': headerRef('CacheControlNoStore'), Pragma: headerRef('PragmaNoCache') };
  const paths: Record<string, PathItem> = {};

  paths[ENDPOINT_PATHS.token] = {
    post: {
      operationId: 'token',
      tags: ['OAuth 2.0'],
      summary: 'Token endpoint (RFC 6749 §3.2)',
      description: `Issues an access token (opaque \`tsr_at_…\` or an RFC 9068 JWT, as the client is registered). Grants enabled: ${grantTypes.map((g) => `\`${g}\``).join(', ')}. ${clientAuthText(o.clientAuthMethods.token)} A parameter may appear once, except \`resource\`.`,
      security: clientSecurity(o.clientAuthMethods.token),
      requestBody: {
        required: true,
        content: {
          [FORM]: {
            schema: { oneOf: grantTypes.map(tokenRequest) },
            encoding: repeatable,
            examples: {
              client_credentials: { summary: 'Client credentials, with HTTP Basic', value: { grant_type: 'client_credentials', scope: 'reports:read', resource: ['https://api.example.com'] } },
            },
          },
        },
      },
      responses: {
        '200': {
          description: 'RFC 6749 §5.1: the token.',
          headers: noStore,
          content: {
            'application/json': {
              schema: schemaRef('TokenResponse'),
              examples: { opaque: { value: { access_token: 'tsr_at_2YotnFZFEjr1zCsicMWpAA2YotnFZFEjr1zCsicMWpA', token_type: 'Bearer', expires_in: 3600, scope: 'reports:read' } } },
            },
          },
        },
        ...oauthErrors({
          badRequest: ['invalid_request', 'invalid_grant', 'unauthorized_client', 'unsupported_grant_type', 'invalid_scope', 'invalid_target'],
          unauthorized: 'basic',
          body: true,
          rateLimited: o.rateLimited,
        }),
      },
    },
  };

  paths[ENDPOINT_PATHS.introspection] = {
    post: {
      operationId: 'introspect',
      tags: ['OAuth 2.0'],
      summary: 'Token introspection (RFC 7662)',
      description: `Whether a token is active, and its claims. A client learns about its own tokens, a resource server (\`resource_server_for\`) about the access tokens of its audiences; anything else, or an unknown, expired or revoked token, is \`{"active": false}\`. ${clientAuthText(o.clientAuthMethods.introspection)} Public clients may not introspect.`,
      security: clientSecurity(o.clientAuthMethods.introspection),
      requestBody: {
        required: true,
        content: {
          [FORM]: {
            schema: formBody(
              'RFC 7662 §2.1.',
              {
                token: { type: 'string', description: 'An access token (opaque or JWT) or a refresh token.' },
                token_type_hint: { enum: ['access_token', 'refresh_token'], description: 'Where to look first; a token of the other type is still found.' },
                ...formClientAuth(o.clientAuthMethods.introspection),
              },
              ['token'],
            ),
          },
        },
      },
      responses: {
        '200': {
          description: 'RFC 7662 §2.2.',
          headers: noStore,
          content: {
            'application/json': {
              schema: schemaRef('IntrospectionResponse'),
              examples: {
                active: {
                  value: {
                    active: true, scope: 'reports:read', client_id: 'Yq3tR0', token_type: 'Bearer', exp: 1767315600, iat: 1767312000,
                    sub: 'Yq3tR0', aud: 'https://api.example.com', iss: 'https://auth.example.com', jti: '5f0c2a9e-8d6c-4d7e-9b0b-1f2e3d4c5b6a',
                  },
                },
                inactive: { value: { active: false } },
              },
            },
          },
        },
        ...oauthErrors({ badRequest: ['invalid_request'], unauthorized: 'basic', body: true, rateLimited: o.rateLimited }),
      },
    },
  };

  paths[ENDPOINT_PATHS.revocation] = {
    post: {
      operationId: 'revoke',
      tags: ['OAuth 2.0'],
      summary: 'Token revocation (RFC 7009)',
      description: `Revokes one of the client's own tokens (a refresh token revokes its whole grant). An unknown, invalid or another client's token is answered the same way (§2.2). ${clientAuthText(o.clientAuthMethods.revocation)}`,
      security: clientSecurity(o.clientAuthMethods.revocation),
      requestBody: {
        required: true,
        content: {
          [FORM]: {
            schema: formBody(
              'RFC 7009 §2.1.',
              {
                token: { type: 'string' },
                token_type_hint: { enum: ['access_token', 'refresh_token'], description: 'Only a hint: every token type is searched.' },
                ...formClientAuth(o.clientAuthMethods.revocation),
              },
              ['token'],
            ),
          },
        },
      },
      responses: {
        '200': { description: 'Revoked, or nothing to revoke (no body).', headers: noStore },
        ...oauthErrors({ badRequest: ['invalid_request'], unauthorized: 'basic', body: true, rateLimited: o.rateLimited }),
      },
    },
  };

  if (o.registration) {
    paths[ENDPOINT_PATHS.registration] = {
      post: {
        operationId: 'register',
        tags: ['OAuth 2.0'],
        summary: 'Dynamic client registration (RFC 7591)',
        description: 'Registers a client. Needs the initial access token (`TESSERA_INITIAL_ACCESS_TOKEN`) as a bearer token (§3). The secret is shown once and stored only as a keyed hash. Unknown members are ignored (§2).',
        security: [{ initial_access_token: [] }],
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: schemaRef('ClientMetadata'),
              examples: { opaque: { value: { client_name: 'reports job', scope: 'reports:read reports:write', access_token_format: 'opaque' } } },
            },
          },
        },
        responses: {
          '201': {
            description: 'RFC 7591 §3.2.1: the client information response.',
            headers: noStore,
            content: {
              'application/json': {
                schema: schemaRef('ClientInformation'),
                examples: {
                  confidential: {
                    value: {
                      client_id: 'Yq3tR0', client_secret: 'tsr_cs_…', client_secret_expires_at: 0, client_id_issued_at: 1767312000, client_name: 'reports job',
                      grant_types: ['client_credentials'], token_endpoint_auth_method: 'client_secret_basic', scope: 'reports:read reports:write', access_token_format: 'opaque',
                    },
                  },
                },
              },
            },
          },
          ...oauthErrors({ badRequest: ['invalid_request', 'invalid_client_metadata', 'invalid_redirect_uri'], unauthorized: 'bearer', body: true, rateLimited: o.rateLimited }),
        },
      },
    };
  }

  if (o.registration) {
    const clientId: Parameter = { name: 'clientId', in: 'path', required: true, description: 'The client_id.', schema: { type: 'string', pattern: '^[A-Za-z0-9_-]+$' } };
    const configurationErrors = (body: boolean) =>
      oauthErrors({ ...(body ? { badRequest: ['invalid_request', 'invalid_client_metadata', 'invalid_redirect_uri'] as const } : {}), unauthorized: 'bearer', body, rateLimited: o.rateLimited });
    const information = (description: string) => ({
      description,
      headers: noStore,
      content: { 'application/json': { schema: schemaRef('ClientInformation') } },
    });
    paths[`${ENDPOINT_PATHS.registration}/{clientId}`] = {
      get: {
        operationId: 'readClientConfiguration',
        tags: ['OAuth 2.0'],
        summary: 'Read a client\'s registration (RFC 7592 §2.1)',
        description: 'The current metadata in the registration response\'s shape, without `client_secret` (only its hash is kept). Any token problem, an unknown, disabled or deleted client, or a client made with the CLI: 401 `invalid_token`, without telling which.',
        security: [{ registration_access_token: [] }],
        parameters: [clientId],
        responses: { '200': information('RFC 7592 §3: the client information response.'), ...configurationErrors(false) },
      },
      put: {
        operationId: 'updateClientConfiguration',
        tags: ['OAuth 2.0'],
        summary: 'Replace a client\'s metadata (RFC 7592 §2.2)',
        description:
          'Validated as at registration; a member left out takes its default. `client_id` must be the client\'s; a `client_secret` must be the current one; the server-set members may be sent back only unchanged; `resource_server_for` cannot be changed here. A public client made confidential gets a new `client_secret` in this response only.',
        security: [{ registration_access_token: [] }],
        parameters: [clientId],
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: {
                allOf: [schemaRef('ClientMetadata')],
                type: 'object',
                required: ['client_id'],
                properties: {
                  client_id: { type: 'string' },
                  client_secret: { type: 'string' },
                  registration_access_token: { type: 'string' },
                  registration_client_uri: { type: 'string' },
                  client_id_issued_at: schemaRef('EpochSeconds'),
                  client_secret_expires_at: { const: 0 },
                },
              },
            },
          },
        },
        responses: { '200': information('RFC 7592 §3: the client information response, with the new metadata.'), ...configurationErrors(true) },
      },
      delete: {
        operationId: 'deleteClientConfiguration',
        tags: ['OAuth 2.0'],
        summary: 'Delete a client (RFC 7592 §2.3)',
        description: 'The client can no longer authenticate or be managed, and every token issued to it is revoked through the revocation log (and so the revocation feed).',
        security: [{ registration_access_token: [] }],
        parameters: [clientId],
        responses: { '204': { description: 'Deleted.', headers: noStore }, ...configurationErrors(false) },
      },
    };
  }

  paths['/.well-known/oauth-authorization-server'] = {
    get: {
      operationId: 'authorizationServerMetadata',
      tags: ['Discovery'],
      summary: 'Authorization server metadata (RFC 8414)',
      description: 'Lists exactly what this server has enabled. There is no `/.well-known/openid-configuration`: Tessera issues no ID tokens.',
      security: [],
      responses: {
        '200': { description: 'RFC 8414 §3.2.', headers: { 'Cache-Control': headerRef('CacheControlPublic') }, content: { 'application/json': { schema: schemaRef('AuthorizationServerMetadata') } } },
        ...oauthErrors({}),
      },
    },
  };

  paths[ENDPOINT_PATHS.jwks] = {
    get: {
      operationId: 'jwks',
      tags: ['Discovery'],
      summary: 'JSON Web Key Set (RFC 7517)',
      description: 'The public keys that verify JWT access tokens: the current signing key, and retired keys until their tokens expire.',
      security: [],
      responses: {
        '200': {
          description: 'The key set.',
          headers: { 'Cache-Control': headerRef('CacheControlPublic') },
          content: {
            'application/jwk-set+json': {
              schema: schemaRef('JsonWebKeySet'),
              examples: { es256: { value: { keys: [{ kty: 'EC', crv: 'P-256', x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU', y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0', kid: 'k1', alg: 'ES256', use: 'sig' }] } } },
            },
          },
        },
        ...oauthErrors({}),
      },
    },
  };

  paths[ENDPOINT_PATHS.revocationFeed] = {
    get: {
      operationId: 'revocationFeed',
      tags: ['Resource servers'],
      summary: 'Revocation feed (Tessera)',
      description:
        'Every revocation, in commit order, for resource servers that verify tokens locally (TokenGuard follows it). Only a resource server (a client with `resource_server_for`) may read it, with HTTP Basic, and it sees only the entries of its audiences, with pseudonyms (HMAC-SHA256 under `pseudonym_key`) instead of client ids, subjects and grant ids.\n\nWithout `Accept: text/event-stream`: one JSON page after the cursor `after`. With it: Server-Sent Events, resuming after `Last-Event-ID` (or `after`): `pseudonym-key` first, then `revocation` (with `id`: the seq), `cursor` (moves the cursor past entries not shown), `caught-up`, `heartbeat` (`latest_seq`, `age_ms`) and `keys` (the published key ids changed: refetch the JWKS).',
      security: [{ client_secret_basic: [] }],
      parameters: [
        { name: 'after', in: 'query', description: 'The cursor: entries after this seq (a PostgreSQL bigint, in digits). Default 0.', schema: { type: 'string', pattern: '^[0-9]{1,19}$' } },
        { name: 'limit', in: 'query', description: 'JSON pages only: at most this many entries.', schema: { type: 'integer', minimum: 1, maximum: 1000, default: 1000 } },
        { name: 'Last-Event-ID', in: 'header', description: 'Server-Sent Events: where a reconnecting stream resumes.', schema: { type: 'string', pattern: '^[0-9]{1,19}$' } },
      ],
      responses: {
        '200': {
          description: 'A page of entries (JSON), or the stream (`text/event-stream`, until the server stops or the reader may no longer read it).',
          headers: { 'Cache-Control': headerRef('CacheControlNoStore') },
          content: {
            'application/json': { schema: schemaRef('RevocationFeedPage') },
            'text/event-stream': { schema: { type: 'string', description: 'Server-Sent Events (see the operation).' } },
          },
        },
        ...oauthErrors({ badRequest: ['invalid_request'], unauthorized: 'basic', forbidden: ['access_denied'] }),
      },
    },
  };

  if (o.authorization) {
    paths[ENDPOINT_PATHS.authorization] = {
      get: {
        operationId: 'authorize',
        tags: ['Sign-in and consent'],
        summary: 'Authorization endpoint (RFC 6749 §4.1.1, PKCE S256)',
        description:
          'Where a client sends the user\'s browser. An unknown client or an unregistered redirect_uri gets an error page, never a redirect. Any other error is sent back to the redirect_uri (§4.1.2.1) with `error`, `error_description`, `state` and `iss` (RFC 9207). A signed-in user with a remembered consent covering the request is sent back with `code`, `state` and `iss` at once; otherwise the browser is sent to sign in, or shown the consent page.',
        security: [{ session: [] }, {}],
        parameters: [
          { name: 'response_type', in: 'query', required: true, schema: { const: 'code' } },
          { name: 'client_id', in: 'query', required: true, schema: { type: 'string' } },
          { name: 'redirect_uri', in: 'query', required: true, description: 'Exactly one of the client\'s registered redirect_uris.', schema: { type: 'string' } },
          { name: 'code_challenge', in: 'query', required: true, description: 'RFC 7636: base64url(SHA-256(code_verifier)).', schema: { type: 'string', pattern: '^[A-Za-z0-9_-]{43}$' } },
          { name: 'code_challenge_method', in: 'query', required: true, schema: { const: 'S256' } },
          { name: 'scope', in: 'query', schema: schemaRef('Scope') },
          { name: 'state', in: 'query', description: 'Returned unchanged.', schema: { type: 'string' } },
          { name: 'resource', in: 'query', description: 'RFC 8707; repeat for several.', style: 'form', explode: true, schema: { type: 'array', items: schemaRef('ResourceIndicator') } },
        ],
        responses: {
          '200': page('The consent page (the user is signed in and has not yet consented to this).'),
          '302': redirect(
            'Back to the redirect_uri, with `code`, `state` and `iss`; or with `error` (`invalid_request`, `unauthorized_client`, `access_denied`, `unsupported_response_type`, `invalid_scope`, `invalid_target`, `server_error` or `temporarily_unavailable`), `error_description`, `state` and `iss`.',
          ),
          '303': redirect('To the sign-in page (`/login?return_to=…`), which returns here.'),
          ...pageErrors(),
        },
      },
    };
    paths['/oauth2/authorize/decision'] = {
      post: {
        operationId: 'authorizeDecision',
        tags: ['Sign-in and consent'],
        summary: 'The consent page\'s answer',
        description: 'Posted by the consent page (same origin, with its CSRF token). Allow or deny; the request is checked again.',
        security: [{ session: [] }],
        requestBody: {
          required: true,
          content: {
            [FORM]: {
              schema: formBody(
                'The consent form.',
                {
                  csrf: { type: 'string', description: 'The page\'s CSRF token.' },
                  request: { type: 'string', description: 'The authorization request\'s query string.' },
                  decision: { enum: ['allow', 'deny'] },
                  remember: { const: 'yes', description: 'Remember the consent for this client.' },
                },
                ['csrf', 'request', 'decision'],
              ),
            },
          },
        },
        responses: {
          '303': redirect('Back to the redirect_uri (`code`, or `error=access_denied`), or to sign in again.'),
          '403': page('The form expired or came from another site.'),
          ...pageErrors({ body: true }),
        },
      },
    };
    paths['/login'] = {
      get: {
        operationId: 'signInPage',
        tags: ['Sign-in and consent'],
        summary: 'The sign-in page',
        security: [{ session: [] }, {}],
        parameters: [{ name: 'return_to', in: 'query', description: 'The authorization request to continue (`/oauth2/authorize?…` on this server only).', schema: { type: 'string' } }],
        responses: {
          '200': page('The sign-in form, or (signed in, nothing to return to) the signed-in page.'),
          '303': redirect('Already signed in: on to `return_to`.'),
          ...pageErrors(),
        },
      },
      post: {
        operationId: 'signIn',
        tags: ['Sign-in and consent'],
        summary: 'Sign in',
        description: 'The sign-in form. Every refusal reads the same, whether the username exists or not; repeated failures are throttled per user and address.',
        security: [],
        requestBody: {
          required: true,
          content: {
            [FORM]: {
              schema: formBody(
                'The sign-in form.',
                {
                  csrf: { type: 'string' },
                  username: { type: 'string' },
                  password: { type: 'string', writeOnly: true },
                  return_to: { type: 'string', description: 'Where to go once signed in.' },
                },
                ['csrf', 'username', 'password'],
              ),
            },
          },
        },
        responses: {
          '303': redirect('Signed in (a new session cookie): on to `return_to`, or the signed-in page.'),
          '401': page('Incorrect username or password: the form again.'),
          '403': page('The form expired or came from another site: the form again.'),
          '429': page('Too many failed attempts: the form again, with the wait.', { 'Retry-After': headerRef('RetryAfter') }),
          ...pageErrors({ body: true }),
        },
      },
    };
    paths['/logout'] = {
      post: {
        operationId: 'signOut',
        tags: ['Sign-in and consent'],
        summary: 'Sign out',
        security: [{ session: [] }],
        requestBody: {
          required: true,
          content: { [FORM]: { schema: formBody('The sign-out form.', { csrf: { type: 'string' }, return_to: { type: 'string' } }, ['csrf']) } },
        },
        responses: {
          '303': redirect('Signed out (a forged post signs nothing out): on to `return_to` or the sign-in page.'),
          ...pageErrors({ body: true }),
        },
      },
    };
    paths['/assets/tessera.css'] = {
      get: {
        operationId: 'pagesStylesheet',
        tags: ['Sign-in and consent'],
        summary: 'The pages\' stylesheet',
        security: [],
        responses: { '200': { description: 'CSS.', content: { 'text/css': { schema: { type: 'string' } } } }, ...oauthErrors({}) },
      },
    };
  }

  paths['/health/live'] = {
    get: {
      operationId: 'live',
      tags: ['Operations'],
      summary: 'Liveness',
      security: [],
      responses: {
        '200': { description: 'The process answers.', headers: { 'Cache-Control': headerRef('CacheControlNoStore') }, content: { 'application/json': { schema: schemaRef('Health') } } },
        ...oauthErrors({}),
      },
    },
  };
  paths['/health/ready'] = {
    get: {
      operationId: 'ready',
      tags: ['Operations'],
      summary: 'Readiness',
      description: 'Ready when PostgreSQL answers; 503 otherwise (load balancers stop sending traffic).',
      security: [],
      responses: {
        '200': { description: 'PostgreSQL answers.', headers: { 'Cache-Control': headerRef('CacheControlNoStore') }, content: { 'application/json': { schema: schemaRef('Health') } } },
        '500': responseRef('ServerError'),
        '503': {
          description: 'PostgreSQL does not answer (`status: unavailable`), or the server is stopping (`temporarily_unavailable`).',
          headers: { 'Cache-Control': headerRef('CacheControlNoStore') },
          content: {
            'application/json': {
              schema: { oneOf: [schemaRef('Health'), schemaRef('OAuthError')] },
              examples: { down: { value: { status: 'unavailable', checks: { database: 'down' } } } },
            },
          },
        },
      },
    },
  };

  if (o.metrics) {
    paths['/metrics'] = {
      get: {
        operationId: 'metrics',
        tags: ['Operations'],
        summary: 'Prometheus metrics',
        description:
          'Prometheus text exposition (prom-client): tokens by grant, format and outcome, request latency by route, introspection and revocation outcomes, database outages and pool use, process metrics. No label carries a client, user or token. On a port of its own instead when TESSERA_AUTH_METRICS_PORT is set.',
        security: [],
        responses: {
          '200': { description: 'The metrics.', content: { 'text/plain': { schema: { type: 'string', contentMediaType: 'text/plain' } } } },
          ...oauthErrors({}),
        },
      },
    };
  }

  paths[OPENAPI_PATHS.document] = {
    get: {
      operationId: 'openApiDocument',
      tags: ['Operations'],
      summary: 'This description (OpenAPI 3.1)',
      security: [],
      responses: { '200': { description: 'The document.', content: { 'application/json': { schema: { type: 'object', required: ['openapi', 'paths'], properties: { openapi: { const: '3.1.0' }, paths: { type: 'object' } } } } } }, ...oauthErrors({}) },
    },
  };
  paths[OPENAPI_PATHS.docs] = {
    get: {
      operationId: 'docsPage',
      tags: ['Operations'],
      summary: 'This description, as a page',
      security: [],
      responses: { '200': { description: 'HTML, rendered on the server from the same document (no script).', content: { 'text/html': { schema: { type: 'string' } } } }, ...oauthErrors({}) },
    },
  };
  paths[OPENAPI_PATHS.docsStylesheet] = {
    get: {
      operationId: 'docsStylesheet',
      tags: ['Operations'],
      summary: 'The docs page\'s stylesheet',
      security: [],
      responses: { '200': { description: 'CSS.', content: { 'text/css': { schema: { type: 'string' } } } }, ...oauthErrors({}) },
    },
  };

  return {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://spec.openapis.org/oas/3.1/dialect/base',
    info: {
      title: 'Tessera authorization server',
      version: o.version,
      description:
        'An OAuth 2.0 authorization server. Token, introspection and revocation take `application/x-www-form-urlencoded` bodies; errors are RFC 6749 §5.2 JSON (`error`, `error_description`) with `Cache-Control: no-store`; `invalid_client` is 401 with `WWW-Authenticate`; a database outage is 503 `temporarily_unavailable` with `Retry-After`. This description lists only what this server has enabled.',
      license: { name: 'MIT', identifier: 'MIT' },
    },
    servers: [{ url: o.issuer.replace(/\/$/, ''), description: 'The issuer' }],
    tags: [
      { name: 'OAuth 2.0', description: 'The protocol endpoints clients call.' },
      { name: 'Discovery', description: 'What clients and resource servers read to find the rest.' },
      { name: 'Resource servers', description: 'What resource servers (TokenGuard) read.' },
      ...(o.authorization ? [{ name: 'Sign-in and consent', description: 'Pages for a person, in a browser.' }] : []),
      { name: 'Operations', description: 'Health checks and this description.' },
    ],
    paths,
    components: {
      schemas: { ...schemas, ...protocolSchemas(o, grantTypes) },
      responses,
      headers,
      parameters: {} as Record<string, Parameter>,
      securitySchemes: {
        client_secret_basic: { type: 'http', scheme: 'basic', description: 'RFC 6749 §2.3.1: client_id and client_secret, each form-encoded, then Basic.' },
        ...(o.registration
          ? {
              initial_access_token: { type: 'http' as const, scheme: 'bearer' as const, description: 'RFC 7591 §3: the initial access token (`TESSERA_INITIAL_ACCESS_TOKEN`).' },
              registration_access_token: { type: 'http' as const, scheme: 'bearer' as const, description: 'RFC 7592 §3: the registration access token the registration response returned, for that client only.' },
            }
          : {}),
        ...(o.authorization ? { session: { type: 'apiKey' as const, in: 'cookie' as const, name: o.sessionCookie, description: 'The sign-in session (HttpOnly, SameSite=Lax).' } } : {}),
      },
    },
  };
}

/** The response and request bodies of the protocol endpoints. */
function protocolSchemas(o: OpenApiOptions, grantTypes: string[]): Record<string, JsonSchema> {
  const str = { type: 'string' } as const;
  const strings = { type: 'array', items: str } as const;
  return {
    TokenResponse: {
      description: 'RFC 6749 §5.1.',
      type: 'object',
      required: ['access_token', 'token_type', 'expires_in'],
      properties: {
        access_token: { type: 'string', description: 'Opaque (`tsr_at_` and 256 random bits) or an RFC 9068 JWT, as the client is registered.' },
        token_type: { const: 'Bearer' },
        expires_in: { type: 'integer', minimum: 1 },
        scope: schemaRef('Scope'),
        refresh_token: { type: 'string', pattern: '^tsr_rt_[A-Za-z0-9_-]{43}$', description: 'With the authorization_code and refresh_token grants, when the client may use refresh_token.' },
      },
      additionalProperties: false,
    },
    IntrospectionResponse: {
      description: 'RFC 7662 §2.2: an inactive token, an active access token, or an active refresh token (shown only to its own client).',
      oneOf: [
        { title: 'Inactive', type: 'object', required: ['active'], properties: { active: { const: false } }, additionalProperties: false },
        {
          title: 'Active access token',
          type: 'object',
          required: ['active', 'client_id', 'token_type', 'exp', 'iat', 'sub', 'aud', 'iss', 'jti'],
          properties: {
            active: { const: true },
            scope: schemaRef('Scope'),
            client_id: str,
            token_type: { const: 'Bearer' },
            exp: schemaRef('EpochSeconds'),
            iat: schemaRef('EpochSeconds'),
            sub: str,
            aud: schemaRef('Audience'),
            iss: str,
            jti: str,
            grant_id: { type: 'string', description: 'Tessera: the grant the token descends from (matches the revocation feed\'s marks).' },
          },
          additionalProperties: false,
        },
        {
          title: 'Active refresh token',
          type: 'object',
          required: ['active', 'client_id', 'exp', 'iat', 'sub'],
          properties: { active: { const: true }, scope: schemaRef('Scope'), client_id: str, exp: schemaRef('EpochSeconds'), iat: schemaRef('EpochSeconds'), sub: str, aud: schemaRef('Audience') },
          additionalProperties: false,
        },
      ],
    },
    ClientMetadata: {
      description: 'RFC 7591 §2 client metadata, and Tessera\'s own. Unknown members are ignored.',
      type: 'object',
      properties: {
        client_name: { type: 'string', maxLength: 200, description: 'Shown on the sign-in and consent pages.' },
        grant_types: { type: 'array', items: { enum: grantTypes }, minItems: 1, description: 'Default: authorization_code with redirect_uris (when enabled), else client_credentials.' },
        token_endpoint_auth_method: { enum: ['client_secret_basic', 'client_secret_post', 'none'], default: 'client_secret_basic' },
        scope: schemaRef('Scope'),
        redirect_uris: { type: 'array', items: { type: 'string', description: 'Absolute https URI (or http on a loopback address), no fragment, userinfo or wildcard.' } },
        access_token_format: { enum: ['opaque', 'jwt'], default: 'opaque' },
        access_token_lifetime: { type: 'integer', minimum: 60, description: 'Seconds; at most TESSERA_MAX_ACCESS_TOKEN_TTL. Default: the server\'s.' },
        resources: { type: 'array', items: schemaRef('ResourceIndicator'), description: 'RFC 8707 audiences the client may ask for.' },
        resource_server_for: { type: 'array', items: schemaRef('ResourceIndicator'), description: 'Tessera: the audiences this client serves as a resource server (introspection of their tokens, the revocation feed).' },
      },
    },
    ClientInformation: {
      description: 'RFC 7591 §3.2.1. `client_secret` appears only here, once.',
      type: 'object',
      required: ['client_id', 'client_id_issued_at', 'grant_types', 'token_endpoint_auth_method', 'access_token_format'],
      properties: {
        client_id: str,
        client_secret: { type: 'string', pattern: '^tsr_cs_', description: 'Absent for a public client (`none`).' },
        client_secret_expires_at: { const: 0, description: 'The secret does not expire.' },
        client_id_issued_at: schemaRef('EpochSeconds'),
        client_name: str,
        grant_types: { type: 'array', items: { enum: grantTypes } },
        token_endpoint_auth_method: { enum: ['client_secret_basic', 'client_secret_post', 'none'] },
        scope: schemaRef('Scope'),
        redirect_uris: strings,
        access_token_format: { enum: ['opaque', 'jwt'] },
        access_token_lifetime: { type: 'integer' },
        resources: strings,
        resource_server_for: strings,
        registration_access_token: { type: 'string', pattern: '^tsr_rat_', description: 'RFC 7592 §3: authorizes the client configuration endpoint; stored as its SHA-256, never expires.' },
        registration_client_uri: { type: 'string', description: 'RFC 7592 §3: the client configuration endpoint, `/oauth2/register/<client_id>`.' },
      },
      additionalProperties: false,
    },
    AuthorizationServerMetadata: {
      description: 'RFC 8414 §2, listing exactly what is enabled.',
      type: 'object',
      required: [
        'issuer', 'token_endpoint', 'jwks_uri', 'response_types_supported', 'grant_types_supported', 'token_endpoint_auth_methods_supported',
        'revocation_endpoint', 'revocation_endpoint_auth_methods_supported', 'introspection_endpoint', 'introspection_endpoint_auth_methods_supported',
        'revocation_feed_endpoint', 'access_token_signing_alg_values_supported',
      ],
      properties: {
        issuer: str,
        authorization_endpoint: str,
        token_endpoint: str,
        jwks_uri: str,
        registration_endpoint: str,
        scopes_supported: strings,
        response_types_supported: strings,
        response_modes_supported: strings,
        authorization_response_iss_parameter_supported: { type: 'boolean' },
        grant_types_supported: strings,
        token_endpoint_auth_methods_supported: strings,
        code_challenge_methods_supported: strings,
        revocation_endpoint: str,
        revocation_endpoint_auth_methods_supported: strings,
        introspection_endpoint: str,
        introspection_endpoint_auth_methods_supported: strings,
        revocation_feed_endpoint: { type: 'string', description: 'Tessera: the revocation feed.' },
        access_token_signing_alg_values_supported: strings,
      },
      additionalProperties: false,
    },
    JsonWebKeySet: {
      description: 'RFC 7517 §5: public keys only.',
      type: 'object',
      required: ['keys'],
      properties: {
        keys: {
          type: 'array',
          items: {
            type: 'object',
            required: ['kty', 'kid', 'alg', 'use'],
            properties: {
              kty: { enum: ['EC', 'OKP', 'RSA'] },
              kid: str,
              alg: { enum: ['ES256', 'EdDSA', 'RS256'] },
              use: { const: 'sig' },
              crv: str,
              x: str,
              y: str,
              n: str,
              e: str,
              retired_at: { ...schemaRef('EpochSeconds'), description: 'Tessera: a retired key, published until its tokens expire; a token it signed with a later `iat` is refused.' },
            },
            additionalProperties: false,
          },
        },
      },
      additionalProperties: false,
    },
    RevocationFeedPage: {
      type: 'object',
      required: ['revocations', 'next_after', 'has_more', 'resource_server_for', 'pseudonym_key'],
      properties: {
        revocations: { type: 'array', items: schemaRef('RevocationEntry') },
        next_after: { type: 'string', pattern: '^[0-9]{1,19}$', description: 'The next cursor (covers entries not shown too).' },
        has_more: { type: 'boolean' },
        resource_server_for: { ...strings, description: 'The audiences whose entries the reader is shown.' },
        pseudonym_key: { type: 'string', description: 'Key of the reader\'s pseudonyms (HMAC-SHA256, base64url).' },
      },
      additionalProperties: false,
    },
    RevocationEntry: {
      description: '`jti`: one token until `exp`. `issued_before`: every token of the client (pseudonym), narrowed to `sub` and/or `grant`, with `iat` below `iat_before`. `kid`: every JWT signed with that key.',
      oneOf: [
        { type: 'object', required: ['seq', 'type', 'jti', 'exp'], properties: { seq: str, type: { const: 'jti' }, jti: str, exp: schemaRef('EpochSeconds') }, additionalProperties: false },
        {
          type: 'object',
          required: ['seq', 'type', 'client', 'iat_before', 'exp'],
          properties: { seq: str, type: { const: 'issued_before' }, client: str, sub: str, grant: str, iat_before: schemaRef('EpochSeconds'), exp: schemaRef('EpochSeconds') },
          additionalProperties: false,
        },
        { type: 'object', required: ['seq', 'type', 'kid', 'exp'], properties: { seq: str, type: { const: 'kid' }, kid: str, exp: schemaRef('EpochSeconds') }, additionalProperties: false },
      ],
    },
    Health: {
      type: 'object',
      required: ['status'],
      properties: { status: { enum: ['ok', 'unavailable'] }, checks: { type: 'object', properties: { database: { enum: ['up', 'down'] } }, additionalProperties: false } },
      additionalProperties: false,
    },
  };
}
