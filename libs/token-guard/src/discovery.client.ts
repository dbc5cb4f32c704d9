// RFC 8414: Authorization Server Metadata, fetched lazily so that the resource
// server starts (and serves cached results) while the auth server is down, and
// fetched again when it is older than `maxAgeMs` or the auth server's keys changed.
import { OAuthError } from '@tessera/oauth-core';
import { fetchJson } from './fetch-json.js';
import { SingleFlight } from './single-flight.js';

export interface AuthorizationServerMetadata {
  issuer: string;
  jwksUri?: string;
  introspectionEndpoint?: string;
  /** Tessera's revocation feed, when offered. */
  revocationFeedEndpoint?: string;
}

/** How long fetched metadata is used before it is fetched again. */
const MAX_AGE_MS = 5 * 60_000;

export class DiscoveryClient {
  private metadata?: AuthorizationServerMetadata;
  private fetchedAt = -Infinity;
  private readonly inflight = new SingleFlight<'metadata', AuthorizationServerMetadata>();

  /** @param baseUrl where the auth server is reached; endpoints under the issuer are rewritten to it. */
  constructor(
    private readonly issuer: string,
    private readonly baseUrl: string = issuer,
    private readonly now: () => number = Date.now,
    private readonly maxAgeMs = MAX_AGE_MS,
  ) {}

  /**
   * Fetched on first use (a failure is thrown, and the next call tries again). Older than the maximum
   * age, it is still answered at once while a fresh copy is fetched in the background; a failed
   * background fetch keeps the old copy, and the next call tries again.
   */
  async get(): Promise<AuthorizationServerMetadata> {
    if (!this.metadata) return this.fetch();
    if (this.now() - this.fetchedAt >= this.maxAgeMs) this.fetch().catch(() => undefined);
    return this.metadata;
  }

  /** The next `get` fetches afresh (in the background when there is a copy). */
  expire(): void {
    this.fetchedAt = -Infinity;
  }

  private fetch(): Promise<AuthorizationServerMetadata> {
    return this.inflight.run('metadata', async () => {
      const url = `${this.baseUrl.replace(/\/$/, '')}/.well-known/oauth-authorization-server`;
      const metadata = parseMetadata(await fetchJson(url, { headers: { accept: 'application/json' } }), this.issuer, this.baseUrl);
      this.metadata = metadata;
      this.fetchedAt = this.now();
      return metadata;
    });
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
  return {
    issuer,
    jwksUri: url(m.jwks_uri),
    introspectionEndpoint: url(m.introspection_endpoint),
    revocationFeedEndpoint: url(m.revocation_feed_endpoint),
  };
}
