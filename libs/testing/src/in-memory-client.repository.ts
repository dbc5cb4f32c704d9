import { ClientRepository, type Client, type ClientChanges } from '@tessera/oauth-core';
import type { InMemoryAuthorizationCodeRepository } from './in-memory-authorization-code.repository.js';
import type { InMemoryRefreshTokenRepository } from './in-memory-refresh-token.repository.js';
import type { InMemoryRevocationRepository } from './in-memory-revocation.repository.js';

export class InMemoryClientRepository extends ClientRepository {
  readonly clients = new Map<string, Client>();

  constructor(
    private readonly revocations?: InMemoryRevocationRepository,
    private readonly refreshTokens?: InMemoryRefreshTokenRepository,
    private readonly codes?: InMemoryAuthorizationCodeRepository,
  ) {
    super();
    if (revocations) revocations.clientIds = () => this.clients.keys();
  }

  async findById(clientId: string): Promise<Client | null> {
    const c = this.clients.get(clientId);
    return c ? structuredClone(c) : null;
  }
  async create(client: Client): Promise<void> {
    if (this.clients.has(client.clientId)) throw new Error(`duplicate client ${client.clientId}`);
    this.clients.set(client.clientId, structuredClone(client));
  }
  async update(clientId: string, changes: ClientChanges, revokeTokensIssuedBefore?: Date): Promise<Client | null> {
    const c = this.clients.get(clientId);
    if (!c) return null;
    const defined = Object.fromEntries(Object.entries(changes).filter(([, value]) => value !== undefined));
    const updated = { ...c, ...structuredClone(defined), updatedAt: new Date() };
    this.clients.set(clientId, updated);
    if (revokeTokensIssuedBefore) {
      this.revocations?.markIssuedBefore({ clientId, issuedBefore: revokeTokensIssuedBefore });
      this.refreshTokens?.revokeClient(clientId, revokeTokensIssuedBefore);
      this.codes?.dropUnredeemed(clientId);
    }
    return structuredClone(updated);
  }
  async replaceSecretHash(clientId: string, expected: string, next: string): Promise<boolean> {
    const c = this.clients.get(clientId);
    if (!c || c.secretHash !== expected) return false;
    this.clients.set(clientId, { ...c, secretHash: next, updatedAt: new Date() });
    return true;
  }
  async list(): Promise<Client[]> {
    return [...this.clients.values()].map((c) => structuredClone(c));
  }
}
