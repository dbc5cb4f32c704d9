import { AccessTokenRepository, type AccessTokenClaims, type StoredAccessToken } from '@tessera/oauth-core';
import { IsNull, type DataSource } from 'typeorm';
import { translateOutage } from './database-outage.js';
import { AccessTokenEntity } from './entities/access-token.entity.js';
import { recordTokenRevocation } from './typeorm-revocation.repository.js';

export class TypeOrmAccessTokenRepository extends AccessTokenRepository {
  constructor(private readonly dataSource: DataSource) {
    super();
  }

  insert(tokenHash: string, claims: AccessTokenClaims): Promise<void> {
    return translateOutage(async () => {
      await this.dataSource.manager.insert(AccessTokenEntity, {
        tokenHash,
        jti: claims.jti,
        clientId: claims.clientId,
        issuer: claims.iss,
        subject: claims.sub,
        audience: claims.aud,
        scopes: claims.scope,
        grantId: claims.grantId ?? null,
        issuedAt: fromEpochSeconds(claims.iat),
        expiresAt: fromEpochSeconds(claims.exp),
      });
    });
  }

  findByHash(tokenHash: string): Promise<StoredAccessToken | null> {
    return translateOutage(async () => {
      const row = await this.dataSource.manager.findOneBy(AccessTokenEntity, { tokenHash });
      if (!row) return null;
      const claims: AccessTokenClaims = {
        jti: row.jti,
        iss: row.issuer,
        sub: row.subject,
        clientId: row.clientId,
        aud: row.audience,
        scope: row.scopes,
        iat: toEpochSeconds(row.issuedAt),
        exp: toEpochSeconds(row.expiresAt),
        grantId: row.grantId,
        format: 'opaque',
      };
      return { claims, revokedAt: row.revokedAt };
    });
  }

  revoke(tokenHash: string, at: Date): Promise<boolean> {
    return translateOutage(() =>
      this.dataSource.transaction(async (manager) => {
        // The row lock makes a concurrent second revoke wait, then find revoked_at set: it returns false.
        const { raw } = await manager
          .createQueryBuilder()
          .update(AccessTokenEntity)
          .set({ revokedAt: at })
          .where({ tokenHash, revokedAt: IsNull() })
          .returning(['jti', 'clientId', 'expiresAt', 'audience'])
          .updateEntity(false)
          .execute();
        const [token] = raw as { jti: string; client_id: string; expires_at: Date; audience: string[] }[];
        if (!token) return false;
        await recordTokenRevocation(manager, {
          jti: token.jti,
          clientId: token.client_id,
          audience: token.audience,
          expiresAt: token.expires_at,
          revokedAt: at,
        });
        return true;
      }),
    );
  }
}

const fromEpochSeconds = (seconds: number) => new Date(seconds * 1000);
const toEpochSeconds = (date: Date) => Math.floor(date.getTime() / 1000);
