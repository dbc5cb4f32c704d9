import { ClientRepository, type Client, type ClientChanges } from '@tessera/oauth-core';
import { IsNull, type DataSource } from 'typeorm';
import { notifyChange } from './change-notification.js';
import { translateOutage } from './database-outage.js';
import { AuthorizationCodeEntity } from './entities/authorization-code.entity.js';
import { ClientEntity } from './entities/client.entity.js';
import { RefreshTokenEntity } from './entities/refresh-token.entity.js';
import { DEFAULT_MAX_TOKEN_TTL_SECONDS, recordIssuedBefore } from './typeorm-revocation.repository.js';


export class TypeOrmClientRepository extends ClientRepository {
  /** @param maxTokenTtlSeconds the longest lifetime of any token, so an issued-before mark can be purged after it. */
  constructor(
    private readonly dataSource: DataSource,
    private readonly maxTokenTtlSeconds = DEFAULT_MAX_TOKEN_TTL_SECONDS,
  ) {
    super();
  }

  findById(clientId: string): Promise<Client | null> {
    return translateOutage(async () => plain(await this.dataSource.manager.findOneBy(ClientEntity, { clientId })));
  }

  create(client: Client): Promise<void> {
    return translateOutage(() =>
      this.dataSource.transaction(async (manager) => {
        await manager.insert(ClientEntity, client);
        await notifyChange(manager, { kind: 'client', clientId: client.clientId });
      }),
    );
  }

  update(clientId: string, changes: ClientChanges, revokeTokensIssuedBefore?: Date): Promise<Client | null> {
    return translateOutage(() =>
      this.dataSource.transaction(async (manager) => {
        // TypeORM skips properties whose value is undefined.
        const { affected } = await manager.update(ClientEntity, { clientId }, { ...changes, updatedAt: () => 'now()' });
        if (!affected) return null;
        if (revokeTokensIssuedBefore) {
          await recordIssuedBefore(manager, {
            clientId,
            issuedBefore: revokeTokensIssuedBefore,
            expiresAt: new Date(revokeTokensIssuedBefore.getTime() + this.maxTokenTtlSeconds * 1000),
            revokedAt: revokeTokensIssuedBefore,
          });
          // Refresh tokens are judged by their own row, not by the mark: revoked here, or enabling the client
          // again (or its new secret) would bring them back.
          await manager.update(RefreshTokenEntity, { clientId, revokedAt: IsNull() }, { revokedAt: revokeTokensIssuedBefore });
          // And its codes not yet redeemed: redeemed later (the client enabled again), they would give fresh tokens.
          await manager.delete(AuthorizationCodeEntity, { clientId, redeemedAt: IsNull() });
        }
        await notifyChange(manager, { kind: 'client', clientId });
        return plain(await manager.findOneBy(ClientEntity, { clientId }));
      }),
    );
  }

  replaceSecretHash(clientId: string, expected: string, next: string): Promise<boolean> {
    return translateOutage(() =>
      this.dataSource.transaction(async (manager) => {
        const { affected } = await manager.update(ClientEntity, { clientId, secretHash: expected }, { secretHash: next, updatedAt: () => 'now()' });
        if (!affected) return false;
        await notifyChange(manager, { kind: 'client', clientId });
        return true;
      }),
    );
  }

  list(): Promise<Client[]> {
    return translateOutage(async () => {
      const rows = await this.dataSource.manager.find(ClientEntity, { order: { clientId: 'ASC' } });
      return rows.map((row) => ({ ...row }));
    });
  }
}

/** The entity has exactly the domain's properties; hand out a plain object. */
function plain(row: ClientEntity | null): Client | null {
  return row && { ...row };
}
