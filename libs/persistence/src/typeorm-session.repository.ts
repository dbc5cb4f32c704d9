import { SessionRepository, type Session, type User } from '@tessera/oauth-core';
import { LessThanOrEqual, type DataSource } from 'typeorm';
import { translateOutage } from './database-outage.js';
import { SessionEntity } from './entities/session.entity.js';
import { UserEntity } from './entities/user.entity.js';
import { toUser } from './typeorm-user.repository.js';

export class TypeOrmSessionRepository extends SessionRepository {
  constructor(private readonly dataSource: DataSource) {
    super();
  }

  create(tokenHash: string, session: Session): Promise<void> {
    return translateOutage(async () => {
      await this.dataSource.manager.insert(SessionEntity, { ...session, tokenHash });
    });
  }

  findActive(tokenHash: string, now: Date): Promise<{ session: Session; user: User } | null> {
    return translateOutage(async () => {
      const row = (await this.dataSource.manager
        .createQueryBuilder(SessionEntity, 'session')
        .innerJoinAndMapOne('session.user', UserEntity, 'user', 'user.id = session.userId AND user.disabledAt IS NULL')
        .where('session.tokenHash = :tokenHash AND session.expiresAt > :now', { tokenHash, now })
        .getOne()) as (SessionEntity & { user: UserEntity }) | null;
      if (!row) return null;
      const { tokenHash: _, user, ...session } = row;
      return { session, user: toUser(user)! };
    });
  }

  delete(tokenHash: string): Promise<void> {
    return translateOutage(async () => {
      await this.dataSource.manager.delete(SessionEntity, { tokenHash });
    });
  }

  purgeExpired(now: Date): Promise<number> {
    return translateOutage(async () => (await this.dataSource.manager.delete(SessionEntity, { expiresAt: LessThanOrEqual(now) })).affected ?? 0);
  }
}
