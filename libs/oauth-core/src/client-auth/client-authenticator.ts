// RFC 6749 §2.3.1: client password authentication, HTTP Basic or form post, one method per request.
import type { Client, TokenEndpointAuthMethod } from '../domain/client.js';
import { OAuthError } from '../errors/oauth-error.js';
import { hasControlCharacter } from '../forms/characters.js';
import type { FormParams } from '../forms/form-params.js';
import { ClientRepository } from '../ports/client.repository.js';
import { SecretHasher } from '../ports/secret-hasher.port.js';

export interface ClientCredentialsPresented {
  method: TokenEndpointAuthMethod;
  clientId: string;
  clientSecret: string | null;
}

/** The methods that present a client secret (RFC 6749 §2.3.1). */
export const CLIENT_SECRET_METHODS: readonly TokenEndpointAuthMethod[] = ['client_secret_basic', 'client_secret_post'];

/**
 * Which client authentication an endpoint accepts. Discovery lists `acceptedAuthMethods(policy)`,
 * and `ClientAuthenticator` enforces the very same policy, so the two cannot drift apart.
 */
export interface ClientAuthPolicy {
  /** The methods accepted, each from a client registered with it. Default: every method. */
  readonly methods?: readonly TokenEndpointAuthMethod[];
  /**
   * Accept client_secret_basic or client_secret_post from any client with a secret, whatever its
   * registered token_endpoint_auth_method (for Tessera's own GET endpoints, where only Basic is possible).
   */
  readonly anySecretMethod?: boolean;
}

export function acceptedAuthMethods(policy: ClientAuthPolicy): TokenEndpointAuthMethod[] {
  return [...(policy.methods ?? (policy.anySecretMethod ? CLIENT_SECRET_METHODS : [...CLIENT_SECRET_METHODS, 'none']))];
}

/** Reads the credentials a request presents, without checking them. */
export function presentedCredentials(authorization: string | undefined, params: FormParams): ClientCredentialsPresented {
  const bodyId = params.get('client_id');
  const bodySecret = params.get('client_secret');
  if (authorization !== undefined) {
    const basic = parseBasic(authorization);
    if (bodySecret !== undefined) {
      throw OAuthError.invalidRequest('use exactly one client authentication method');
    }
    if (bodyId !== undefined && bodyId !== basic.clientId) {
      throw OAuthError.invalidClient('client_id does not match the Authorization header', 'Basic');
    }
    return { method: 'client_secret_basic', ...basic };
  }
  if (bodyId === undefined) throw OAuthError.invalidClient('client authentication required');
  if (bodySecret !== undefined) return { method: 'client_secret_post', clientId: bodyId, clientSecret: bodySecret };
  return { method: 'none', clientId: bodyId, clientSecret: null };
}

/** Stateless between calls (no streaming): one decoder for every Basic header. */
const UTF8 = new TextDecoder('utf-8', { fatal: true });
const BASIC = /^Basic ([A-Za-z0-9+/]+={0,2})$/i;

/** §2.3.1: id and secret are form-encoded before Basic encoding. Most have nothing encoded: kept as they are. */
function unform(s: string): string {
  return s.includes('%') || s.includes('+') ? decodeURIComponent(s.replace(/\+/g, ' ')) : s;
}

function parseBasic(header: string): { clientId: string; clientSecret: string } {
  const match = BASIC.exec(header.trim());
  if (!match) throw OAuthError.invalidClient('malformed Basic authorization header', 'Basic');
  const decoded = Buffer.from(match[1], 'base64');
  let text: string;
  try {
    text = UTF8.decode(decoded);
  } catch {
    throw OAuthError.invalidClient('malformed Basic authorization header', 'Basic');
  }
  const colon = text.indexOf(':');
  if (colon < 1) throw OAuthError.invalidClient('malformed Basic authorization header', 'Basic');
  let credentials: { clientId: string; clientSecret: string };
  try {
    credentials = { clientId: unform(text.slice(0, colon)), clientSecret: unform(text.slice(colon + 1)) };
  } catch {
    throw OAuthError.invalidClient('malformed Basic authorization header', 'Basic');
  }
  // Appendix A: both are visible ASCII; a control (NUL above all) must never reach the client lookup.
  if (hasControlCharacter(credentials.clientId) || hasControlCharacter(credentials.clientSecret)) {
    throw OAuthError.invalidClient('malformed Basic authorization header', 'Basic');
  }
  return credentials;
}

/** Authenticates the client of a token, introspection or revocation request. */
export class ClientAuthenticator {
  /** Verified against when the client is unknown, so that case costs the same time. */
  private readonly decoyHash: string;

  /**
   * `limitClient`, when given, is called once a client proved its identity with its secret (never for a request
   * that only names a client_id, which anyone can do), and may refuse the request (too_many_requests).
   */
  constructor(
    private readonly clients: ClientRepository,
    private readonly hasher: SecretHasher,
    private readonly limitClient?: (client: Client) => void,
    /**
     * Told of each client authenticated, by secret or as a public client, with the form of its request (one
     * object per request, by which the app finds the request: the request log's `client_id`).
     */
    private readonly authenticated?: (client: Client, params: FormParams) => void,
  ) {
    this.decoyHash = hasher.hash('tessera-decoy-secret');
  }

  /** Authenticates the client as `policy` allows; any other method is an invalid_client. */
  async authenticate(authorization: string | undefined, params: FormParams, policy: ClientAuthPolicy = {}): Promise<Client> {
    const presented = presentedCredentials(authorization, params);
    const scheme = presented.method === 'client_secret_basic' ? 'Basic' : undefined;
    if (!acceptedAuthMethods(policy).includes(presented.method)) {
      throw OAuthError.invalidClient(`this endpoint does not accept ${presented.method} client authentication`, scheme);
    }
    const client = await this.clients.findById(presented.clientId);
    if (presented.clientSecret !== null) {
      const ok = this.hasher.verify(presented.clientSecret, client?.secretHash ?? this.decoyHash);
      if (!client || !client.secretHash || !ok) throw OAuthError.invalidClient('client authentication failed', scheme);
      if (!client.disabledAt && this.hasher.needsRehash(client.secretHash)) await this.rehash(client, presented.clientSecret);
    } else if (!client) {
      throw OAuthError.invalidClient('client authentication failed', scheme);
    }
    if (client.disabledAt) throw OAuthError.invalidClient('client authentication failed', scheme);
    const methodOk = policy.anySecretMethod ? presented.clientSecret !== null : client.tokenEndpointAuthMethod === presented.method;
    if (!methodOk) {
      throw OAuthError.invalidClient(`client must authenticate with ${client.tokenEndpointAuthMethod}`, scheme);
    }
    this.authenticated?.(client, params);
    if (presented.clientSecret !== null) this.limitClient?.(client);
    return client;
  }

  /**
   * Stores a secret that verified under an older format or key the current way (the KEK-derived pepper).
   * Best effort: the authentication stands if the write fails, and the next one tries again.
   */
  private async rehash(client: Client, secret: string): Promise<void> {
    try {
      await this.clients.replaceSecretHash(client.clientId, client.secretHash!, this.hasher.hash(secret));
    } catch {
      // Retried at the next successful authentication, or done by `keys re-encrypt`.
    }
  }
}
