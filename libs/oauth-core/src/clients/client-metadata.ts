// RFC 7591 §2 client metadata, validated. Unknown members are ignored (§2).
import { ACCESS_TOKEN_FORMATS, type AccessTokenFormat, type Client, type TokenEndpointAuthMethod } from '../domain/client.js';
import { OAuthError } from '../errors/oauth-error.js';
import { hasControlCharacter, hasUnsafeDisplayCharacter } from '../forms/characters.js';
import { isAbsoluteUri, isResourceIndicator } from '../scopes/resource.js';
import { parseScope } from '../scopes/scope.js';

/** What a client chooses at registration; the server sets the rest of `Client`. */
export type ClientMetadata = Pick<
  Client,
  'clientName' | 'grantTypes' | 'scopes' | 'tokenEndpointAuthMethod' | 'redirectUris' | 'accessTokenFormat' | 'accessTokenTtl' | 'resources' | 'resourceServerFor'
>;

export interface ClientMetadataPolicy {
  /** Grants this server has enabled. */
  grantTypes: string[];
  /** Longest access-token lifetime a client may ask for, in seconds. */
  maxAccessTokenTtl: number;
}

const AUTH_METHODS: TokenEndpointAuthMethod[] = ['client_secret_basic', 'client_secret_post', 'none'];
/** Grants a public client (`none`, no secret) may use: PKCE or rotation is its proof. */
const PUBLIC_CLIENT_GRANTS = ['authorization_code', 'refresh_token'];
const MIN_TTL = 60;

export function parseClientMetadata(body: unknown, policy: ClientMetadataPolicy): ClientMetadata {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw OAuthError.invalidClientMetadata('the request body must be a JSON object');
  }
  const m = body as Record<string, unknown>;
  const bad = (d: string) => OAuthError.invalidClientMetadata(d);
  refuseControlCharacters(m);

  // RFC 7591 §2's default is authorization_code; a client that registers no redirect URI cannot use it, so it gets client_credentials.
  const wantsCode = policy.grantTypes.includes('authorization_code') && m.redirect_uris !== undefined;
  const grantTypes = stringList(m.grant_types, 'grant_types') ?? [wantsCode ? 'authorization_code' : 'client_credentials'];
  for (const g of grantTypes) if (!policy.grantTypes.includes(g)) throw bad(`grant_types: "${g}" is not supported`);
  if (grantTypes.length === 0) throw bad('grant_types must not be empty');

  const method = m.token_endpoint_auth_method ?? 'client_secret_basic';
  if (typeof method !== 'string' || !AUTH_METHODS.includes(method as TokenEndpointAuthMethod)) {
    throw bad(`token_endpoint_auth_method must be one of ${AUTH_METHODS.join(', ')}`);
  }

  if (m.scope !== undefined && typeof m.scope !== 'string') throw bad('scope must be a string');
  const scopes = parseScope(m.scope === '' ? undefined : (m.scope as string | undefined), bad);

  if (m.client_name !== undefined && (typeof m.client_name !== 'string' || m.client_name.length > 200)) {
    throw bad('client_name must be a string of at most 200 characters');
  }
  // Shown to people on the sign-in and consent pages: no text that reorders or hides what is around it.
  if (typeof m.client_name === 'string' && hasUnsafeDisplayCharacter(m.client_name)) {
    throw bad('client_name must not contain control or bidirectional formatting characters');
  }

  const format = m.access_token_format ?? 'opaque';
  if (!ACCESS_TOKEN_FORMATS.includes(format as AccessTokenFormat)) throw bad('access_token_format must be "opaque" or "jwt"');

  const ttl = m.access_token_lifetime;
  if (ttl !== undefined && (!Number.isInteger(ttl) || (ttl as number) < MIN_TTL || (ttl as number) > policy.maxAccessTokenTtl)) {
    throw bad(`access_token_lifetime must be a whole number of seconds from ${MIN_TTL} to ${policy.maxAccessTokenTtl}`);
  }

  const resources = stringList(m.resources, 'resources') ?? [];
  resources.forEach((r, i) => {
    if (!isResourceIndicator(r)) throw bad(`resources[${i}] is not an absolute URI (RFC 3986) without a fragment`);
  });

  // Tessera's resource-server role: whoever holds the initial access token (or runs the CLI) may grant it.
  const resourceServerFor = parseResourceServerFor(m.resource_server_for);

  const redirectUris = stringList(m.redirect_uris, 'redirect_uris', OAuthError.invalidRedirectUri) ?? [];
  redirectUris.forEach((uri, i) => {
    if (!isRedirectUri(uri)) {
      throw OAuthError.invalidRedirectUri(
        `redirect_uris[${i}] must be an absolute URI (RFC 3986), https (or http on a loopback address), with no userinfo, wildcard or fragment`,
      );
    }
  });

  if (method === 'none' && !grantTypes.every((g) => PUBLIC_CLIENT_GRANTS.includes(g))) {
    throw bad(`token_endpoint_auth_method "none" (a public client) allows only the grant_types ${PUBLIC_CLIENT_GRANTS.join(', ')}`);
  }
  if (method === 'none' && resourceServerFor.length > 0) {
    throw bad('resource_server_for needs a confidential client (a resource server authenticates with its secret)');
  }
  if (grantTypes.includes('refresh_token') && !grantTypes.includes('authorization_code')) {
    throw bad('grant_types: "refresh_token" needs "authorization_code" (refresh tokens are issued from a code)');
  }
  if (grantTypes.includes('authorization_code') && redirectUris.length === 0) {
    throw OAuthError.invalidRedirectUri('redirect_uris is required for the authorization_code grant');
  }
  return {
    clientName: (m.client_name as string | undefined) ?? null,
    grantTypes: [...new Set(grantTypes)],
    scopes,
    tokenEndpointAuthMethod: method as TokenEndpointAuthMethod,
    redirectUris,
    accessTokenFormat: format as AccessTokenFormat,
    accessTokenTtl: (ttl as number | undefined) ?? null,
    resources: [...new Set(resources)],
    resourceServerFor,
  };
}

/** `resource_server_for`: the resource identifiers (RFC 8707) a resource server serves; none when absent. */
export function parseResourceServerFor(value: unknown): string[] {
  const resources = stringList(value, 'resource_server_for') ?? [];
  for (const r of resources) {
    if (!isResourceIndicator(r)) throw OAuthError.invalidClientMetadata(`resource_server_for: "${r}" is not an absolute URI without a fragment`);
  }
  return [...new Set(resources)];
}

function stringList(value: unknown, name: string, error = OAuthError.invalidClientMetadata): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string' && v.length > 0 && v.length <= 2000)) {
    throw error(`${name} must be an array of non-empty strings`);
  }
  return value as string[];
}

/** The members read above that hold strings, and the error a control character in each one is. */
const STRING_MEMBERS: Record<string, (description: string) => OAuthError> = {
  client_name: OAuthError.invalidClientMetadata,
  scope: OAuthError.invalidClientMetadata,
  grant_types: OAuthError.invalidClientMetadata,
  token_endpoint_auth_method: OAuthError.invalidClientMetadata,
  access_token_format: OAuthError.invalidClientMetadata,
  resources: OAuthError.invalidClientMetadata,
  redirect_uris: OAuthError.invalidRedirectUri,
};

/**
 * No metadata value holds a control character (RFC 7591 §3.2.2: invalid_client_metadata, or
 * invalid_redirect_uri for redirect_uris). Checked first, so that no error description echoes one.
 */
function refuseControlCharacters(m: Record<string, unknown>): void {
  for (const [name, error] of Object.entries(STRING_MEMBERS)) {
    const value = m[name];
    const values = Array.isArray(value) ? value : [value];
    if (values.some((v) => typeof v === 'string' && hasControlCharacter(v))) throw error(`${name} must not contain control characters`);
  }
}

/**
 * RFC 9700 §2.1 / RFC 8252 §7.3: an exact absolute URI (RFC 3986, as typed), https or http on a
 * loopback address, with a host and no userinfo, wildcard or fragment.
 */
export function isRedirectUri(uri: string): boolean {
  if (!isAbsoluteUri(uri) || uri.includes('#') || uri.includes('*')) return false;
  const authority = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/([^/?]*)/.exec(uri)?.[1];
  if (!authority || authority.includes('@')) return false;
  const url = new URL(uri);
  if (url.username !== '' || url.password !== '') return false;
  if (url.protocol === 'https:') return true;
  return url.protocol === 'http:' && ['127.0.0.1', '[::1]', 'localhost'].includes(url.hostname);
}
