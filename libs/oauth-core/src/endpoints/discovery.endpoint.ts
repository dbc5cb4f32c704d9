// RFC 8414: Authorization Server Metadata, listing exactly what this server has enabled.
export interface DiscoveryOptions {
  issuer: string;
  grantTypes: string[];
  registrationEnabled: boolean;
  scopesSupported?: string[];
  signingAlgorithms: string[];
  /** The authorization endpoint (and its sign-in and consent pages) is served. */
  authorizationEndpoint: boolean;
  /** What each endpoint's client authentication accepts (`acceptedAuthMethods` of its policy). */
  clientAuthMethods: { token: string[]; revocation: string[]; introspection: string[] };
}

export const ENDPOINT_PATHS = {
  authorization: '/oauth2/authorize',
  token: '/oauth2/token',
  introspection: '/oauth2/introspect',
  revocation: '/oauth2/revoke',
  registration: '/oauth2/register',
  jwks: '/.well-known/jwks.json',
  revocationFeed: '/oauth2/revocations',
} as const;

/** RFC 7636: S256 only, never plain. */
const CODE_CHALLENGE_METHODS = ['S256'];

export function authorizationServerMetadata(o: DiscoveryOptions): Record<string, unknown> {
  const base = o.issuer.replace(/\/$/, '');
  const url = (path: string) => `${base}${path}`;
  const code = o.grantTypes.includes('authorization_code');
  return {
    issuer: o.issuer,
    ...(o.authorizationEndpoint ? { authorization_endpoint: url(ENDPOINT_PATHS.authorization) } : {}),
    token_endpoint: url(ENDPOINT_PATHS.token),
    jwks_uri: url(ENDPOINT_PATHS.jwks),
    ...(o.registrationEnabled ? { registration_endpoint: url(ENDPOINT_PATHS.registration) } : {}),
    ...(o.scopesSupported && o.scopesSupported.length > 0 ? { scopes_supported: o.scopesSupported } : {}),
    response_types_supported: o.authorizationEndpoint ? ['code'] : [],
    ...(o.authorizationEndpoint ? { response_modes_supported: ['query'], authorization_response_iss_parameter_supported: true } : {}),
    grant_types_supported: o.grantTypes,
    token_endpoint_auth_methods_supported: o.clientAuthMethods.token,
    ...(code ? { code_challenge_methods_supported: CODE_CHALLENGE_METHODS } : {}),
    revocation_endpoint: url(ENDPOINT_PATHS.revocation),
    revocation_endpoint_auth_methods_supported: o.clientAuthMethods.revocation,
    introspection_endpoint: url(ENDPOINT_PATHS.introspection),
    introspection_endpoint_auth_methods_supported: o.clientAuthMethods.introspection,
    // Tessera's revocation feed (JSON pages, or Server-Sent Events), for resource servers that verify tokens locally.
    revocation_feed_endpoint: url(ENDPOINT_PATHS.revocationFeed),
    // RFC 9068 access tokens are signed with these algorithms.
    access_token_signing_alg_values_supported: o.signingAlgorithms,
  };
}
