import type { Client } from '../domain/client.js';
import { OAuthError } from '../errors/oauth-error.js';
import { ClientRepository } from '../ports/client.repository.js';
import { NoAuditLog, type AuditLog, type AuditVia } from '../ports/audit-log.port.js';
import type { Clock } from '../ports/clock.port.js';
import type { RandomSource } from '../ports/random.port.js';
import type { SecretHasher } from '../ports/secret-hasher.port.js';
import { hashToken } from '../tokens/token-hash.js';
import { parseResourceServerFor, type ClientMetadata } from './client-metadata.js';

export const CLIENT_SECRET_PREFIX = 'tsr_cs_';
/** RFC 7592 registration access tokens: 256 random bits after this prefix, kept as `hashToken` of the whole. */
export const REGISTRATION_ACCESS_TOKEN_PREFIX = 'tsr_rat_';

export interface RegisteredClient {
  client: Client;
  /** The new secret, to return this once; null for a public client. */
  clientSecret: string | null;
  /** The RFC 7592 registration access token, to return this once; null unless asked for. */
  registrationAccessToken: string | null;
}

/** Creates and manages clients; shared by RFC 7591 registration and the operator CLI. */
export class ClientRegistrar {
  constructor(
    private readonly clients: ClientRepository,
    private readonly hasher: SecretHasher,
    private readonly random: RandomSource,
    private readonly clock: Clock,
    private readonly audit: AuditLog = new NoAuditLog(),
    /** Whose changes these are, for the audit: RFC 7591 registration or the operator. */
    private readonly via: AuditVia = 'operator',
  ) {}

  /**
   * Registers a client. The secret is returned here once and stored only as a keyed hash. With
   * `registrationAccessToken` (RFC 7591 registration), the client also gets an RFC 7592 registration access
   * token, returned here once and stored as its SHA-256; clients made by the operator CLI get none.
   */
  async register(metadata: ClientMetadata, options: { registrationAccessToken?: boolean } = {}): Promise<RegisteredClient> {
    const now = this.clock.now();
    const clientSecret = metadata.tokenEndpointAuthMethod === 'none' ? null : this.newSecret();
    const registrationAccessToken = options.registrationAccessToken ? REGISTRATION_ACCESS_TOKEN_PREFIX + this.random.token(32) : null;
    const client: Client = {
      ...metadata,
      clientId: this.random.token(16),
      secretHash: clientSecret === null ? null : this.hasher.hash(clientSecret),
      revocationFeedKey: metadata.resourceServerFor.length > 0 ? this.random.token(32) : null,
      registrationAccessTokenHash: registrationAccessToken === null ? null : hashToken(registrationAccessToken),
      disabledAt: null,
      deletedAt: null,
      createdAt: now,
      updatedAt: now,
    };
    await this.clients.create(client);
    this.audit.record({ event: 'client.created', clientId: client.clientId, clientName: client.clientName ?? undefined, resourceServerFor: client.resourceServerFor, via: this.via });
    return { client, clientSecret, registrationAccessToken };
  }

  /**
   * Replaces the client's metadata (RFC 7592 §2.2, and `clients update`). Its secret is kept while it
   * authenticates with one; a client that becomes public loses it, and one that stops being public gets a new
   * one, returned here once. A resource server keeps its feed pseudonym key. Tokens already issued are left alone.
   */
  async update(clientId: string, metadata: ClientMetadata): Promise<{ client: Client; clientSecret: string | null }> {
    const existing = await this.clients.findById(clientId);
    if (!existing || existing.deletedAt) throw OAuthError.invalidRequest(`no client ${clientId}`);
    const isPublic = metadata.tokenEndpointAuthMethod === 'none';
    const clientSecret = !isPublic && existing.secretHash === null ? this.newSecret() : null;
    const secretHash = isPublic ? null : clientSecret !== null ? this.hasher.hash(clientSecret) : existing.secretHash;
    const revocationFeedKey = metadata.resourceServerFor.length === 0 ? null : (existing.revocationFeedKey ?? this.random.token(32));
    const client = await this.clients.update(clientId, { ...metadata, secretHash, revocationFeedKey });
    if (!client) throw OAuthError.invalidRequest(`no client ${clientId}`);
    this.audit.record({ event: 'client.changed', clientId, change: 'metadata', secretIssued: clientSecret !== null, secretDropped: isPublic && existing.secretHash !== null, via: this.via });
    return { client, clientSecret };
  }

  /** A new secret; with `revokeTokens`, every token issued to the client so far stops working. */
  async rotateSecret(clientId: string, revokeTokens: boolean): Promise<{ client: Client; clientSecret: string }> {
    if ((await this.clients.findById(clientId))?.deletedAt) throw OAuthError.invalidRequest(`client ${clientId} was deleted`);
    const clientSecret = this.newSecret();
    const client = await this.clients.update(clientId, { secretHash: this.hasher.hash(clientSecret) }, revokeTokens ? this.clock.now() : undefined);
    if (!client) throw OAuthError.invalidRequest(`no client ${clientId}`);
    this.audit.record({ event: 'client.changed', clientId, change: 'secret_rotated', tokensRevoked: revokeTokens, via: this.via });
    return { client, clientSecret };
  }

  /**
   * Gives a confidential client the resource-server role for `resources`, or takes it away (none). Its feed
   * pseudonym key is kept while it has the role; open feed streams of the client are checked again.
   */
  async setResourceServerFor(clientId: string, resources: unknown): Promise<Client> {
    const resourceServerFor = parseResourceServerFor(resources);
    const existing = await this.clients.findById(clientId);
    if (!existing) throw OAuthError.invalidRequest(`no client ${clientId}`);
    if (existing.secretHash === null && resourceServerFor.length > 0) {
      throw OAuthError.invalidClientMetadata('resource_server_for needs a confidential client (a resource server authenticates with its secret)');
    }
    const revocationFeedKey = resourceServerFor.length === 0 ? null : (existing.revocationFeedKey ?? this.random.token(32));
    const client = await this.clients.update(clientId, { resourceServerFor, revocationFeedKey });
    if (!client) throw OAuthError.invalidRequest(`no client ${clientId}`);
    this.audit.record({ event: 'client.changed', clientId, change: 'resource_server_for', resourceServerFor, via: this.via });
    return client;
  }

  /** Disables the client: it can no longer authenticate, and its tokens stop working. */
  async disable(clientId: string): Promise<Client> {
    const now = this.clock.now();
    const client = await this.clients.update(clientId, { disabledAt: now }, now);
    if (!client) throw OAuthError.invalidRequest(`no client ${clientId}`);
    this.audit.record({ event: 'client.disabled', clientId, via: this.via });
    return client;
  }

  /**
   * Enables a disabled client again. Tokens revoked when it was disabled stay revoked (the issued-before mark
   * remains); a deleted client cannot be enabled.
   */
  async enable(clientId: string): Promise<Client> {
    const existing = await this.clients.findById(clientId);
    if (!existing) throw OAuthError.invalidRequest(`no client ${clientId}`);
    if (existing.deletedAt) throw OAuthError.invalidRequest(`client ${clientId} was deleted; it cannot be enabled again`);
    const client = await this.clients.update(clientId, { disabledAt: null });
    if (!client) throw OAuthError.invalidRequest(`no client ${clientId}`);
    this.audit.record({ event: 'client.enabled', clientId, via: this.via });
    return client;
  }

  /**
   * Deletes the client (RFC 7592 §2.3): disabled as `disable` does (its tokens revoked by an issued-before mark
   * that the revocation feed carries), for good, with its secret and registration access token dropped. The row
   * stays, so that the client_id is never accepted again.
   */
  async delete(clientId: string): Promise<Client> {
    const now = this.clock.now();
    const existing = await this.clients.findById(clientId);
    if (!existing || existing.deletedAt) throw OAuthError.invalidRequest(`no client ${clientId}`);
    const client = await this.clients.update(
      clientId,
      { disabledAt: existing.disabledAt ?? now, deletedAt: now, secretHash: null, registrationAccessTokenHash: null },
      now,
    );
    if (!client) throw OAuthError.invalidRequest(`no client ${clientId}`);
    this.audit.record({ event: 'client.deleted', clientId, via: this.via });
    return client;
  }

  private newSecret(): string {
    return CLIENT_SECRET_PREFIX + this.random.token(32);
  }
}
