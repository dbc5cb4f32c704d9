import { RevocationRepository, type AccessTokenClaims } from '@tessera/oauth-core';
import type { DataSource, EntityManager } from 'typeorm';
import { translateOutage } from './database-outage.js';
import { RevocationEntity } from './entities/revocation.entity.js';

export class TypeOrmRevocationRepository extends RevocationRepository {
  constructor(private readonly dataSource: DataSource) {
    super();
  }

  revokeToken(jti: string, clientId: string, expiresAt: Date, at: Date): Promise<void> {
    return translateOutage(() => recordTokenRevocation(this.dataSource.manager, { jti, clientId, expiresAt, revokedAt: at }));
  }

  /** One query: the token's jti, or an issued-before mark for its client (and its subject or grant, when the mark names one). */
  isRevoked(claims: AccessTokenClaims): Promise<boolean> {
    return translateOutage(async () => {
      const [{ revoked }] = await this.dataSource.query<{ revoked: boolean }[]>(
        `SELECT EXISTS (
           SELECT 1 FROM revocations
           WHERE jti = $1
              OR (kind = 'issued-before' AND client_id = $2 AND issued_before > $3
                  AND (subject IS NULL OR subject = $4)
                  AND (grant_id IS NULL OR grant_id::text = $5))
         ) AS revoked`,
        // grant_id as text: a grant id that is no UUID matches no mark, rather than failing the query.
        [claims.jti, claims.clientId, new Date(claims.iat * 1000), claims.sub, claims.grantId ?? null],
      );
      return revoked;
    });
  }
}

/** Appends a 'token' revocation in `manager`'s transaction; a jti already recorded is left as it is. */
export async function recordTokenRevocation(
  manager: EntityManager,
  revocation: { jti: string; clientId: string; expiresAt: Date; revokedAt: Date },
): Promise<void> {
  await manager
    .createQueryBuilder()
    .insert()
    .into(RevocationEntity)
    .values({ kind: 'token', ...revocation })
    .orIgnore() // ON CONFLICT DO NOTHING, on the unique index over jti
    .updateEntity(false)
    .execute();
}

/** Appends an 'issued-before' revocation in `manager`'s transaction. */
export async function recordIssuedBefore(
  manager: EntityManager,
  mark: { clientId: string; subject?: string | null; grantId?: string | null; issuedBefore: Date; expiresAt: Date; revokedAt: Date },
): Promise<void> {
  await manager.insert(RevocationEntity, { kind: 'issued-before', subject: null, grantId: null, ...mark });
}
