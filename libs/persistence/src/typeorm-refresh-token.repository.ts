import { issuedBeforeNow, RefreshTokenRepository, type RefreshToken, type StoredRefreshToken } from '@tessera/oauth-core';
import { IsNull, type DataSource } from 'typeorm';
import { translateOutage } from './database-outage.js';
import { RefreshTokenEntity } from './entities/refresh-token.entity.js';
import { DEFAULT_MAX_TOKEN_TTL_SECONDS, recordGrantRevocation } from './typeorm-revocation.repository.js';

export class TypeOrmRefreshTokenRepository extends RefreshTokenRepository {
  /** @param maxTokenTtlSeconds the longest lifetime of an access token, so a grant's issued-before mark can be purged after it. */
  constructor(
    private readonly dataSource: DataSource,
    private readonly maxTokenTtlSeconds = DEFAULT_MAX_TOKEN_TTL_SECONDS,
  ) {
    super();
  }

  insert(tokenHash: string, token: RefreshToken): Promise<void> {
    return translateOutage(async () => {
      await this.dataSource.manager.insert(RefreshTokenEntity, toRow(tokenHash, token));
    });
  }

  findByHash(tokenHash: string): Promise<StoredRefreshToken | null> {
    return translateOutage(async () => {
      const row = await this.dataSource.manager.findOneBy(RefreshTokenEntity, { tokenHash });
      return row && toStored(row);
    });
  }

  rotate(tokenHash: string, at: Date, nextHash: string, next: RefreshToken): Promise<boolean> {
    return translateOutage(() =>
      this.dataSource.transaction(async (manager) => {
        // The row lock makes a concurrent rotation wait, then find rotated_at set: it updates nothing.
        const { affected } = await manager.update(RefreshTokenEntity, { tokenHash, rotatedAt: IsNull(), revokedAt: IsNull() }, { rotatedAt: at });
        if (!affected) return false;
        await manager.insert(RefreshTokenEntity, toRow(nextHash, next));
        return true;
      }),
    );
  }

  revokeGrant(clientId: string, grantId: string, at: Date): Promise<void> {
    return translateOutage(() =>
      this.dataSource.transaction(async (manager) => {
        await manager.update(RefreshTokenEntity, { clientId, familyId: grantId, revokedAt: IsNull() }, { revokedAt: at });
        await recordGrantRevocation(manager, { clientId, grantId, issuedBefore: issuedBeforeNow(at) }, this.maxTokenTtlSeconds);
      }),
    );
  }
}

function toRow(tokenHash: string, t: RefreshToken): Partial<RefreshTokenEntity> {
  const { scope, ...rest } = t;
  return { tokenHash, ...rest, scopes: scope, rotatedAt: null, revokedAt: null };
}

function toStored(row: RefreshTokenEntity): StoredRefreshToken {
  return {
    familyId: row.familyId,
    clientId: row.clientId,
    subject: row.subject,
    scope: row.scopes,
    audience: row.audience,
    grantId: row.grantId!,
    issuedAt: row.issuedAt,
    familyIssuedAt: row.familyIssuedAt,
    expiresAt: row.expiresAt,
    rotatedAt: row.rotatedAt,
    revokedAt: row.revokedAt,
  };
}
