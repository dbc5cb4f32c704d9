import { DataSource } from 'typeorm';
import type { ClientCredentials } from './authorization-server.client.js';
import { RegisteredClientEntity } from './registered-client.entity.js';

/** Where the resource server keeps the client it registered, one per issuer. */
export abstract class RegisteredClientStore {
  abstract find(issuer: string): Promise<ClientCredentials | null>;
  /**
   * Stores `registered` for `issuer` unless another instance stored one first,
   * and returns what is stored. `replacing` names a client refused by the
   * issuer, which `registered` may overwrite.
   */
  abstract save(issuer: string, registered: ClientCredentials, replacing: string | null): Promise<ClientCredentials>;
}

export class TypeOrmRegisteredClientStore extends RegisteredClientStore {
  constructor(private readonly dataSource: DataSource) {
    super();
  }

  async find(issuer: string): Promise<ClientCredentials | null> {
    const row = await this.dataSource.getRepository(RegisteredClientEntity).findOneBy({ issuer });
    return row ? { clientId: row.clientId, clientSecret: row.clientSecret } : null;
  }

  async save(issuer: string, registered: ClientCredentials, replacing: string | null): Promise<ClientCredentials> {
    await this.dataSource.query(
      `INSERT INTO registered_clients (issuer, client_id, client_secret) VALUES ($1, $2, $3)
       ON CONFLICT (issuer) DO UPDATE SET client_id = EXCLUDED.client_id, client_secret = EXCLUDED.client_secret, registered_at = now()
       WHERE registered_clients.client_id IS NOT DISTINCT FROM $4`,
      [issuer, registered.clientId, registered.clientSecret, replacing],
    );
    return (await this.find(issuer)) ?? registered;
  }
}
