import { ConsentRepository, type Consent } from '@tessera/oauth-core';
import type { DataSource } from 'typeorm';
import { translateOutage } from './database-outage.js';
import { ConsentEntity } from './entities/consent.entity.js';

/** The distinct elements of a text[] expression, in code-point order (as JavaScript sorts them), whatever the database collation. */
const asSet = (array: string) => `ARRAY(SELECT DISTINCT e COLLATE "C" FROM unnest(${array}) AS e ORDER BY 1)`;

export class TypeOrmConsentRepository extends ConsentRepository {
  constructor(private readonly dataSource: DataSource) {
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
}
