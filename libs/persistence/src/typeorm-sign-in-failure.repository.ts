import { SignInFailureRepository, type SignInReservation } from '@tessera/oauth-core';
import { In, LessThanOrEqual, MoreThan, type DataSource, type EntityManager } from 'typeorm';
import { translateOutage } from './database-outage.js';
import { SignInFailureEntity } from './entities/sign-in-failure.entity.js';

/**
 * The class of the transaction-scoped advisory locks (two-key form, its own key space) taken per
 * throttling key while an attempt is reserved: concurrent reservations of one key, from any
 * instance, run one after the other, so each sees the failures the previous ones recorded.
 */
const SIGN_IN_LOCK_CLASS = 0x519e;

export class TypeOrmSignInFailureRepository extends SignInFailureRepository {
  constructor(private readonly dataSource: DataSource) {
    super();
  }

  reserve(limits: { key: string; limit: number }[], since: Date, at: Date): Promise<SignInReservation> {
    return translateOutage(() =>
      this.dataSource.transaction(async (manager) => {
        const keys = limits.map((l) => l.key);
        // In one order everywhere, so two attempts sharing keys never wait on each other in a cycle.
        for (const key of [...new Set(keys)].sort()) {
          await manager.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [SIGN_IN_LOCK_CLASS, key]);
        }
        // Read committed: this statement's snapshot, taken after the locks, sees what their previous holders committed.
        const recent = await failuresSince(manager, keys, since);
        if (limits.some(({ key, limit }) => (recent.get(key)?.length ?? 0) >= limit)) return { reserved: false, failures: recent };
        const inserted = await manager
          .createQueryBuilder()
          .insert()
          .into(SignInFailureEntity)
          .values(keys.map((key) => ({ key, failedAt: at })))
          .returning(['id'])
          .execute();
        return { reserved: true, ids: inserted.raw.map((row: { id: string }) => String(row.id)) };
      }),
    );
  }

  release({ ids }: { ids: string[] }): Promise<void> {
    return translateOutage(async () => {
      if (ids.length === 0) return;
      await this.dataSource.manager.delete(SignInFailureEntity, { id: In(ids) });
    });
  }

  since(keys: string[], since: Date): Promise<Map<string, Date[]>> {
    return translateOutage(() => failuresSince(this.dataSource.manager, keys, since));
  }

  clear(keys: string[]): Promise<void> {
    return translateOutage(async () => {
      if (keys.length === 0) return;
      await this.dataSource.manager.delete(SignInFailureEntity, { key: In(keys) });
    });
  }

  purgeBefore(before: Date): Promise<number> {
    return translateOutage(async () => (await this.dataSource.manager.delete(SignInFailureEntity, { failedAt: LessThanOrEqual(before) })).affected ?? 0);
  }
}

async function failuresSince(manager: EntityManager, keys: string[], since: Date): Promise<Map<string, Date[]>> {
  const failures = new Map<string, Date[]>();
  if (keys.length === 0) return failures;
  const rows = await manager.find(SignInFailureEntity, {
    select: { key: true, failedAt: true },
    where: { key: In(keys), failedAt: MoreThan(since) },
    order: { failedAt: 'ASC', id: 'ASC' },
  });
  for (const { key, failedAt } of rows) {
    const times = failures.get(key) ?? [];
    times.push(failedAt);
    failures.set(key, times);
  }
  return failures;
}
