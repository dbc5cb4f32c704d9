import { SigningKeyRepository, type SigningKeyRecord } from '@tessera/oauth-core';
import { MoreThan, type DataSource, type EntityManager, type QueryDeepPartialEntity } from 'typeorm';
import { notifyChange } from './change-notification.js';
import { translateOutage } from './database-outage.js';
import { SigningKeyEntity } from './entities/signing-key.entity.js';
import { recordKeyRevocation } from './typeorm-revocation.repository.js';

export class TypeOrmSigningKeyRepository extends SigningKeyRepository {
  constructor(private readonly dataSource: DataSource) {
    super();
  }

  listPublished(now: Date): Promise<SigningKeyRecord[]> {
    return translateOutage(async () => {
      const rows = await this.dataSource.manager.find(SigningKeyEntity, {
        where: [{ status: 'active' }, { publishUntil: MoreThan(now) }],
        order: { createdAt: 'DESC', kid: 'ASC' },
      });
      return rows.map((row) => ({ ...row }));
    });
  }

  insertFirst(key: SigningKeyRecord): Promise<boolean> {
    return translateOutage(() =>
      this.dataSource.transaction(async (manager) => {
        // Against the partial unique index: of concurrent first starts, one inserts and the others wait, then do nothing.
        const { raw } = await manager
          .createQueryBuilder()
          .insert()
          .into(SigningKeyEntity)
          .values(activeRow(key))
          .orIgnore()
          .returning(['kid'])
          .updateEntity(false)
          .execute();
        if ((raw as unknown[]).length === 0) return false;
        await notifyChange(manager, { kind: 'signing-keys' });
        return true;
      }),
    );
  }

  rotate(key: SigningKeyRecord, at: Date, publishUntil: Date, options: { revokeSigned?: boolean } = {}): Promise<void> {
    return translateOutage(() =>
      this.dataSource.transaction(async (manager) => {
        // Waits for a scheduled rotation under way elsewhere, then rotates all the same: the operator asked for it.
        await manager.query('SELECT pg_advisory_xact_lock($1)', [KEY_ROTATION_LOCK]);
        await retireAndActivate(manager, key, at, publishUntil, options);
      }),
    );
  }

  rotateIfDue(key: SigningKeyRecord, at: Date, publishUntil: Date, dueAt: Date): Promise<boolean> {
    return translateOutage(() =>
      this.dataSource.transaction(async (manager) => {
        // Another instance is rotating: it is the one; this one skips (and sees the new key by NOTIFY).
        const [{ locked }] = await manager.query<{ locked: boolean }[]>('SELECT pg_try_advisory_xact_lock($1) AS locked', [KEY_ROTATION_LOCK]);
        if (!locked) return false;
        // Read after the lock is held: a rotation committed by the instance that held it before is seen here.
        const [{ newest }] = await manager.query<{ newest: Date | null }[]>('SELECT max(created_at) AS newest FROM signing_keys');
        if (newest !== null && newest.getTime() > dueAt.getTime()) return false;
        await retireAndActivate(manager, key, at, publishUntil, {});
        return true;
      }),
    );
  }

  replacePrivateKey(kid: string, expected: string, next: string): Promise<boolean> {
    return translateOutage(() =>
      this.dataSource.transaction(async (manager) => {
        const { affected } = await manager.update(SigningKeyEntity, { kid, privateKey: expected }, { privateKey: next });
        if (!affected) return false;
        await notifyChange(manager, { kind: 'signing-keys' });
        return true;
      }),
    );
  }
}

/** Held (transaction-scoped) by every rotation: a scheduled one that finds it taken skips. */
export const KEY_ROTATION_LOCK = 0x7e55e7b;

/** Retires the active key (its private half destroyed) and makes `key` active, in `manager`'s transaction; NOTIFYs. */
async function retireAndActivate(
  manager: EntityManager,
  key: SigningKeyRecord,
  at: Date,
  publishUntil: Date,
  options: { revokeSigned?: boolean },
): Promise<void> {
  const retired = await manager.findOneBy(SigningKeyEntity, { status: 'active' });
  await manager.update(
    SigningKeyEntity,
    { status: 'active' },
    // The private half is destroyed: a retired key never signs again (and one that may be compromised is gone from here).
    { status: 'retired', retiredAt: at, publishUntil: options.revokeSigned ? at : publishUntil, privateKey: null },
  );
  if (retired && options.revokeSigned) await recordKeyRevocation(manager, { kid: retired.kid, expiresAt: publishUntil, revokedAt: at });
  await manager.insert(SigningKeyEntity, activeRow(key));
  await notifyChange(manager, { kind: 'signing-keys' });
}

/** The row of `key` as the active key. (TypeORM's partial-entity type cannot express `unknown` JSON values, hence the cast.) */
function activeRow(key: SigningKeyRecord): QueryDeepPartialEntity<SigningKeyEntity> {
  return { ...key, status: 'active' } as QueryDeepPartialEntity<SigningKeyEntity>;
}
