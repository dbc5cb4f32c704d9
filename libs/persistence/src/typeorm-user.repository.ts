import { issuedBeforeNow, UserRepository, type User } from '@tessera/oauth-core';
import { IsNull, type DataSource } from 'typeorm';
import { translateOutage } from './database-outage.js';
import { RefreshTokenEntity } from './entities/refresh-token.entity.js';
import { SessionEntity } from './entities/session.entity.js';
import { UserEntity } from './entities/user.entity.js';
import { DEFAULT_MAX_TOKEN_TTL_SECONDS, recordSubjectRevocation } from './typeorm-revocation.repository.js';

export class TypeOrmUserRepository extends UserRepository {
  constructor(
    private readonly dataSource: DataSource,
    private readonly maxTokenTtlSeconds = DEFAULT_MAX_TOKEN_TTL_SECONDS,
  ) {
    super();
  }

  findById(id: string): Promise<User | null> {
    // A sub that is no UUID (a client_credentials token's) names no user, rather than failing the query.
    if (!UUID.test(id)) return Promise.resolve(null);
    return translateOutage(async () => toUser(await this.dataSource.manager.findOneBy(UserEntity, { id })));
  }

  findByUsername(username: string): Promise<User | null> {
    return translateOutage(async () => toUser(await this.dataSource.manager.findOneBy(UserEntity, { usernameKey: username.toLowerCase() })));
  }

  create(user: User): Promise<void> {
    return translateOutage(async () => {
      await this.dataSource.manager.insert(UserEntity, { ...user, usernameKey: user.username.toLowerCase() });
    });
  }

  list(): Promise<User[]> {
    return translateOutage(async () => (await this.dataSource.manager.find(UserEntity, { order: { usernameKey: 'ASC' } })).map((u) => toUser(u)!));
  }

  setPasswordHash(id: string, passwordHash: string): Promise<boolean> {
    return translateOutage(async () => {
      const { affected } = await this.dataSource.manager.update(UserEntity, { id }, { passwordHash });
      return (affected ?? 0) > 0;
    });
  }

  disable(id: string, at: Date): Promise<User | null> {
    return translateOutage(() =>
      this.dataSource.transaction(async (manager) => {
        const { affected } = await manager.update(UserEntity, { id }, { disabledAt: at });
        if (!affected) return null;
        await manager.update(RefreshTokenEntity, { subject: id, revokedAt: IsNull() }, { revokedAt: at });
        await manager.delete(SessionEntity, { userId: id });
        await recordSubjectRevocation(manager, { subject: id, issuedBefore: issuedBeforeNow(at) }, this.maxTokenTtlSeconds);
        return toUser(await manager.findOneBy(UserEntity, { id }));
      }),
    );
  }

  enable(id: string): Promise<User | null> {
    return translateOutage(async () => {
      const { affected } = await this.dataSource.manager.update(UserEntity, { id }, { disabledAt: null });
      return affected ? toUser(await this.dataSource.manager.findOneBy(UserEntity, { id })) : null;
    });
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The domain user of a row (without `usernameKey`), or null. */
export function toUser(row: UserEntity | null): User | null {
  if (!row) return null;
  const { usernameKey: _, ...user } = row;
  return { ...user };
}
