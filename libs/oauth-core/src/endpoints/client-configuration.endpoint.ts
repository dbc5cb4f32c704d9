// RFC 7592: Dynamic Client Registration Management. The client configuration endpoint (the
// registration_client_uri of §3) reads (§2.1), replaces (§2.2) and deletes (§2.3) one client's registration,
// authorized by the registration access token issued with it at registration, presented as an RFC 6750 bearer token.
import { timingSafeEqual } from 'node:crypto';
import { parseClientMetadata, parseResourceServerFor, type ClientMetadataPolicy } from '../clients/client-metadata.js';
import type { ClientRegistrar } from '../clients/client-registrar.js';
import type { Client } from '../domain/client.js';
import { OAuthError } from '../errors/oauth-error.js';
import { clientConfigurationResponse } from '../forms/wire.js';
import type { ClientRepository } from '../ports/client.repository.js';
import type { SecretHasher } from '../ports/secret-hasher.port.js';
import { hashToken } from '../tokens/token-hash.js';
import { bearerToken } from './bearer-token.js';
import { ENDPOINT_PATHS } from './discovery.endpoint.js';

/** What client ids look like (base64url); anything else names no client and never reaches the database. */
const CLIENT_ID = /^[A-Za-z0-9_-]{1,64}$/;
/** Compared against when there is no token to compare with, so every refusal costs the same. */
const DECOY_HASH = hashToken('tessera-decoy-registration-access-token');
const INVALID = 'the registration access token is not valid for this client';

/** RFC 7592 §3 registration_client_uri: the registration endpoint followed by the client_id. */
export function clientConfigurationUri(issuer: string, clientId: string): string {
  return `${issuer.replace(/\/$/, '')}${ENDPOINT_PATHS.registration}/${encodeURIComponent(clientId)}`;
}

export class ClientConfigurationEndpoint {
  /**
   * @param clients read uncached: a token or a deletion is judged on what the database holds now.
   * @param registrar writes (through the protocol's client cache, so every instance sees the change).
   */
  constructor(
    private readonly clients: ClientRepository,
    private readonly registrar: ClientRegistrar,
    private readonly hasher: SecretHasher,
    private readonly policy: ClientMetadataPolicy,
    private readonly issuer: string,
  ) {}

  /**
   * §2.1: the client information response of §3. It carries no client_secret: only its hash is kept, and
   * RFC 7591 §3.2.1 makes the member optional. The registration access token is the one presented (not rotated).
   */
  async read(authorization: string | undefined, clientId: string, onAuthorized?: OnAuthorized): Promise<Record<string, unknown>> {
    const { client, token } = await this.authorize(authorization, clientId, onAuthorized);
    return clientConfigurationResponse(client, null, token, clientConfigurationUri(this.issuer, clientId));
  }

  /**
   * §2.2: replaces the metadata, validated as at registration; a member left out takes its default (§2.2's
   * "treated as null or empty"). `client_id` must be given and be this client's; a `client_secret` must be the
   * current one; the members the server sets (§3) may be sent back only unchanged. `resource_server_for` is the
   * operator's to give (CLI, or the initial access token at registration): left out, it stays as it is; given, it
   * must be the same. The response is §2.1's, with a new client_secret only when the client has just got one
   * (a public client turned confidential).
   */
  async update(authorization: string | undefined, clientId: string, body: unknown, onAuthorized?: OnAuthorized): Promise<Record<string, unknown>> {
    const { client, token } = await this.authorize(authorization, clientId, onAuthorized);
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw OAuthError.invalidClientMetadata('the request body must be a JSON object');
    }
    const m = body as Record<string, unknown>;
    const bad = (d: string) => OAuthError.invalidClientMetadata(d);
    if (m.client_id !== clientId) throw bad("client_id must be given, and be this client's client_id");
    if (m.client_secret !== undefined) {
      const matches = typeof m.client_secret === 'string' && client.secretHash !== null && this.hasher.verify(m.client_secret, client.secretHash);
      if (!matches) throw bad('client_secret does not match the current client secret (a client cannot choose its secret)');
    }
    const uri = clientConfigurationUri(this.issuer, clientId);
    const serverSet: Record<string, unknown> = {
      registration_access_token: token,
      registration_client_uri: uri,
      client_id_issued_at: Math.floor(client.createdAt.getTime() / 1000),
      client_secret_expires_at: 0,
    };
    for (const [name, value] of Object.entries(serverSet)) {
      if (m[name] !== undefined && m[name] !== value) throw bad(`${name} is set by the server and cannot be changed`);
    }
    if (m.resource_server_for !== undefined) {
      const asked = parseResourceServerFor(m.resource_server_for);
      const same = asked.length === client.resourceServerFor.length && asked.every((r) => client.resourceServerFor.includes(r));
      if (!same) throw bad('resource_server_for is given by the operator and cannot be changed here');
    }
    const metadata = parseClientMetadata({ ...m, resource_server_for: client.resourceServerFor }, this.policy);
    // A client may narrow what it was allowed, never widen it: what it may ask for was the registrar's or the
    // operator's to give (an operator's `clients update` must not be undone by the client).
    const widened = (name: string, asked: string[], allowed: string[]) => {
      const extra = asked.filter((v) => !allowed.includes(v));
      if (extra.length > 0) throw bad(`${name} cannot be widened here: ${extra.join(' ')} is not among the client's current ${name}`);
    };
    widened('scope', metadata.scopes, client.scopes);
    widened('grant_types', metadata.grantTypes, client.grantTypes);
    if (client.resources.length > 0) {
      if (metadata.resources.length === 0) throw bad('resources cannot be widened here: the client is limited to its current resources');
      widened('resources', metadata.resources, client.resources);
    }
    const { client: updated, clientSecret } = await this.registrar.update(clientId, metadata).catch(gone);
    return clientConfigurationResponse(updated, clientSecret, token, uri);
  }

  /**
   * §2.3: the client is deleted: it can no longer authenticate or be managed, and every token issued to it is
   * revoked (recorded in the revocation log, so the revocation feed carries it to resource servers).
   */
  async delete(authorization: string | undefined, clientId: string, onAuthorized?: OnAuthorized): Promise<void> {
    await this.authorize(authorization, clientId, onAuthorized);
    await this.registrar.delete(clientId).catch(gone);
  }

  /**
   * The client whose registration access token was presented. An unknown, deleted or disabled client, another
   * client's token or a client with none are all the same 401 invalid_token (RFC 6750 §3.1). A deleted client's
   * token was revoked with it (§2.1: "SHOULD be immediately revoked").
   */
  private async authorize(authorization: string | undefined, clientId: string, onAuthorized?: OnAuthorized): Promise<{ client: Client; token: string }> {
    const token = bearerToken(authorization, 'a registration access token is required');
    const client = CLIENT_ID.test(clientId) ? await this.clients.findById(clientId) : null;
    const expected = client && !client.disabledAt && !client.deletedAt ? client.registrationAccessTokenHash : null;
    const presented = Buffer.from(hashToken(token));
    const stored = Buffer.from(expected ?? DECOY_HASH);
    const matches = presented.length === stored.length && timingSafeEqual(presented, stored);
    if (!client || expected === null || !matches) throw OAuthError.invalidToken(INVALID);
    onAuthorized?.(client.clientId);
    return { client, token };
  }
}

/** Told of the client once the request's registration access token is verified (the request log's `client_id`). */
export type OnAuthorized = (clientId: string) => void;

/** The client went away between the token check and the change (deleted meanwhile): the token is no longer valid. */
function gone(e: unknown): never {
  if (e instanceof OAuthError && e.code === 'invalid_request') throw OAuthError.invalidToken(INVALID);
  throw e;
}
