// RFC 8414: Authorization Server Metadata, fetched lazily so that the resource
// server starts (and serves cached results) while the auth server is down.
import { OAuthError } from '@tessera/oauth-core';
import { fetchJson } from './fetch-json.js';
import { SingleFlight } from './single-flight.js';

export interface AuthorizationServerMetadata {
  issuer: string;
  jwksUri?: string;
  introspectionEndpoint?: string;
  /** Tessera's revocation feed, when offered. */
  revocationFeedEndpoint?: string;
  /** `access_token_signing_alg_values_supported` (RFC 9068 §3), when advertised. */
  accessTokenSigningAlgorithms?: string[];
}

export class DiscoveryClient {
  private metadata?: AuthorizationServerMetadata;
  private readonly inflight = new SingleFlight<'metadata', AuthorizationServerMetadata>();

  /** @param baseUrl where the auth server is reached; endpoints under the issuer are rewritten to it. */
  constructor(
    private readonly issuer: string,
    private readonly baseUrl: string = issuer,
  ) {}

  /** Fetched on first use and then kept. A failure is not kept: the next call tries again. */
  async get(): Promise<AuthorizationServerMetadata> {
    return (
      this.metadata ??
      this.inflight.run('metadata', async () => {
        const url = `${this.baseUrl.replace(/\/$/, '')}/.well-known/oauth-authorization-server`;
        this.metadata = parseMetadata(await fetchJson(url, { headers: { accept: 'application/json' } }), this.issuer, this.baseUrl);
        return this.metadata;
      })
    );
  }
}

function parseMetadata(body: unknown, issuer: string, baseUrl: string): AuthorizationServerMetadata {
  const m = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  // §3.3: the issuer in the metadata must be the one we asked about.
  if (m.issuer !== issuer) {
    throw OAuthError.temporarilyUnavailable(new Error(`the metadata names issuer ${JSON.stringify(m.issuer)}, expected ${issuer}`));
  }
  const base = issuer.replace(/\/$/, '');
  const url = (value: unknown) => {
    if (typeof value !== 'string' || !URL.canParse(value)) return undefined;
    return value.startsWith(`${base}/`) ? `${baseUrl.replace(/\/$/, '')}${value.slice(base.length)}` : value;
  };
  const algorithms = m.access_token_signing_alg_values_supported;
  return {
    issuer,
    jwksUri: url(m.jwks_uri),
    introspectionEndpoint: url(m.introspection_endpoint),
    revocationFeedEndpoint: url(m.revocation_feed_endpoint),
    accessTokenSigningAlgorithms:
      Array.isArray(algorithms) && algorithms.every((a) => typeof a === 'string') ? algorithms : undefined,
  };
}
