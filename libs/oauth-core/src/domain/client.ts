export type AccessTokenFormat = 'opaque' | 'jwt';
export const ACCESS_TOKEN_FORMATS: readonly AccessTokenFormat[] = ['opaque', 'jwt'];

export type TokenEndpointAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'none';

/** A registered client (RFC 7591 metadata plus Tessera's own). */
export interface Client {
  clientId: string;
  /** Keyed hash of the client secret; null for public clients. */
  secretHash: string | null;
  clientName: string | null;
  grantTypes: string[];
  /** The scopes this client may request (RFC 6749 §3.3). */
  scopes: string[];
  tokenEndpointAuthMethod: TokenEndpointAuthMethod;
  redirectUris: string[];
  /** Format of the access tokens issued to this client, unless a resource overrides it. */
  accessTokenFormat: AccessTokenFormat;
  /** Access-token lifetime for this client in seconds; null means the server default. */
  accessTokenTtl: number | null;
  /** RFC 8707 resource indicators (audiences) this client may request. */
  resources: string[];
  /**
   * The resource-server role: the RFC 8707 resource identifiers (audiences) this client serves. A client with
   * any may introspect tokens whose audience includes one of them, and read the revocation feed for them.
   */
  resourceServerFor: string[];
  /**
   * Key of the HMAC-SHA256 pseudonyms the revocation feed gives this resource server instead of client ids,
   * subjects and grant ids (base64url, 256 bits); null when the client is no resource server.
   */
  revocationFeedKey: string | null;
  /**
   * SHA-256 of the RFC 7592 registration access token (as `hashToken` gives it); null when the client has none
   * (made by the operator CLI, or deleted).
   */
  registrationAccessTokenHash: string | null;
  disabledAt: Date | null;
  /** Deleted (RFC 7592 §2.3 or the CLI): also disabled, for good; it can be neither enabled nor managed again. */
  deletedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}
