import { SignInFailureRepository } from '@tessera/oauth-core';
import { In, LessThanOrEqual, MoreThan, type DataSource } from 'typeorm';
import { translateOutage } from './database-outage.js';
import { SignInFailureEntity } from './entities/sign-in-failure.entity.js';

export class TypeOrmSignInFailureRepository extends SignInFailureRepository {
  constructor(private readonly dataSource: DataSource) {
    super();
  }

  record(keys: string[], at: Date): Promise<void> {
    return translateOutage(async () => {
      if (keys.length === 0) return;
      await this.dataSource.manager.insert(
        SignInFailureEntity,
        keys.map((key) => ({ key, failedAt: at })),
      );
    });
  }

  since(keys: string[], since: Date): Promise<Map<string, Date[]>> {
    return translateOutage(async () => {
      const failures = new Map<string, Date[]>();
      if (keys.length === 0) return failures;
      const rows = await this.dataSource.manager.find(SignInFailureEntity, {
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
    });
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
