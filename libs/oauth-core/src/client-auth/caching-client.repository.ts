import type { Client } from '../domain/client.js';
import { ChangeFeed } from '../ports/change-feed.port.js';
import { ClientRepository, type ClientChanges } from '../ports/client.repository.js';
import type { Clock } from '../ports/clock.port.js';

/**
 * Keeps client records in memory so the token endpoint does not read the
 * database for a known client. An entry is dropped when the change feed says
 * the client changed (in any process), and in any case after `ttlMs`.
 */
export class CachingClientRepository extends ClientRepository {
  private readonly entries = new Map<string, { client: Client; until: number }>();
  private readonly unsubscribe: () => void;

  constructor(
    private readonly inner: ClientRepository,
    changes: ChangeFeed,
    private readonly clock: Clock,
    private readonly options: { ttlMs: number; maxEntries: number } = { ttlMs: 60_000, maxEntries: 10_000 },
  ) {
    super();
    this.unsubscribe = changes.subscribe((event) => {
      if (event.kind === 'client') this.entries.delete(event.clientId);
      else if (event.kind === 'all') this.entries.clear();
    });
  }

  async findById(clientId: string): Promise<Client | null> {
    const now = this.clock.now().getTime();
    const hit = this.entries.get(clientId);
    if (hit && hit.until > now) return hit.client;
    const client = await this.inner.findById(clientId);
    this.entries.delete(clientId);
    if (client) {
      if (this.entries.size >= this.options.maxEntries) this.entries.delete(this.entries.keys().next().value!);
      this.entries.set(clientId, { client, until: now + this.options.ttlMs });
    }
    return client;
  }

  async create(client: Client): Promise<void> {
    await this.inner.create(client);
  }

  async update(clientId: string, changes: ClientChanges, revokeTokensIssuedBefore?: Date): Promise<Client | null> {
    this.entries.delete(clientId);
    const updated = await this.inner.update(clientId, changes, revokeTokensIssuedBefore);
    this.entries.delete(clientId);
    return updated;
  }

  async replaceSecretHash(clientId: string, expected: string, next: string): Promise<boolean> {
    this.entries.delete(clientId);
    const replaced = await this.inner.replaceSecretHash(clientId, expected, next);
    this.entries.delete(clientId);
    return replaced;
  }

  list(): Promise<Client[]> {
    return this.inner.list();
  }

  close(): void {
    this.unsubscribe();
  }
}
