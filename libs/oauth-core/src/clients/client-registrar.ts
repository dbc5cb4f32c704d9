import type { Client } from '../domain/client.js';
import { OAuthError } from '../errors/oauth-error.js';
import { ClientRepository } from '../ports/client.repository.js';
import { NoAuditLog, type AuditLog, type AuditVia } from '../ports/audit-log.port.js';
import type { Clock } from '../ports/clock.port.js';
import type { RandomSource } from '../ports/random.port.js';
import type { SecretHasher } from '../ports/secret-hasher.port.js';
import { parseResourceServerFor, type ClientMetadata } from './client-metadata.js';

export const CLIENT_SECRET_PREFIX = 'tsr_cs_';

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

  /** Registers a client. The secret is returned here once and stored only as a keyed hash. */
  async register(metadata: ClientMetadata): Promise<{ client: Client; clientSecret: string | null }> {
    const now = this.clock.now();
    const clientSecret = metadata.tokenEndpointAuthMethod === 'none' ? null : this.newSecret();
    const client: Client = {
      ...metadata,
      clientId: this.random.token(16),
      secretHash: clientSecret === null ? null : this.hasher.hash(clientSecret),
      revocationFeedKey: metadata.resourceServerFor.length > 0 ? this.random.token(32) : null,
      disabledAt: null,
      createdAt: now,
      updatedAt: now,
    };
    await this.clients.create(client);
    this.audit.record({ event: 'client.created', clientId: client.clientId, clientName: client.clientName ?? undefined, resourceServerFor: client.resourceServerFor, via: this.via });
    return { client, clientSecret };
  }

  /** A new secret; with `revokeTokens`, every token issued to the client so far stops working. */
  async rotateSecret(clientId: string, revokeTokens: boolean): Promise<{ client: Client; clientSecret: string }> {
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

  private newSecret(): string {
    return CLIENT_SECRET_PREFIX + this.random.token(32);
  }
}
