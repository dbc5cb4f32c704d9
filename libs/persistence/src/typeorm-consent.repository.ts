import { ConsentRepository, issuedBeforeNow, type Consent } from '@tessera/oauth-core';
import { IsNull, type DataSource } from 'typeorm';
import { translateOutage } from './database-outage.js';
import { ConsentEntity } from './entities/consent.entity.js';
import { RefreshTokenEntity } from './entities/refresh-token.entity.js';
import { DEFAULT_MAX_TOKEN_TTL_SECONDS, recordSubjectRevocation } from './typeorm-revocation.repository.js';

/** The distinct elements of a text[] expression, in code-point order (as JavaScript sorts them), whatever the database collation. */
const asSet = (array: string) => `ARRAY(SELECT DISTINCT e COLLATE "C" FROM unnest(${array}) AS e ORDER BY 1)`;

export class TypeOrmConsentRepository extends ConsentRepository {
  /** @param maxTokenTtlSeconds the longest lifetime of any access token, so an issued-before mark can be purged after it. */
  constructor(
    private readonly dataSource: DataSource,
    private readonly maxTokenTtlSeconds = DEFAULT_MAX_TOKEN_TTL_SECONDS,
  ) {
    super();
  }

  find(userId: string, clientId: string): Promise<Consent | null> {
    return translateOutage(async () => {
      const row = await this.dataSource.manager.findOneBy(ConsentEntity, { userId, clientId });
      return row && { ...row };
    });
  }

  grant(consent: Consent): Promise<void> {
    return translateOutage(async () => {
      // One statement: concurrent grants for the same user and client both end up in the union.
      await this.dataSource.query(
        `INSERT INTO consents (user_id, client_id, scopes, resources, granted_at)
         VALUES ($1, $2, ${asSet('$3::text[]')}, ${asSet('$4::text[]')}, $5)
         ON CONFLICT (user_id, client_id) DO UPDATE SET
           scopes = ${asSet('consents.scopes || EXCLUDED.scopes')},
           resources = ${asSet('consents.resources || EXCLUDED.resources')},
           granted_at = EXCLUDED.granted_at`,
        [consent.userId, consent.clientId, consent.scopes, consent.resources, consent.grantedAt],
      );
    });
  }

  revoke(userId: string, clientId: string | null, at: Date): Promise<number> {
    const atClient = clientId === null ? {} : { clientId };
    return translateOutage(() =>
      this.dataSource.transaction(async (manager) => {
        const { affected } = await manager.delete(ConsentEntity, { userId, ...atClient });
        await manager.update(RefreshTokenEntity, { subject: userId, ...atClient, revokedAt: IsNull() }, { revokedAt: at });
        await recordSubjectRevocation(manager, { subject: userId, clientId, issuedBefore: issuedBeforeNow(at) }, this.maxTokenTtlSeconds);
        return affected ?? 0;
      }),
    );
  }
}
