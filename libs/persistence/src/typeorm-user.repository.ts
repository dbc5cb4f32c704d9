import { issuedBeforeNow, UserRepository, type User } from '@tessera/oauth-core';
import { IsNull, type DataSource } from 'typeorm';
import { translateOutage } from './database-outage.js';
import { preparedQuery } from './pg-pool.js';
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
    // A prepared statement: the refresh grant reads the user at each refresh.
    return translateOutage(async () => {
      const [row] = await preparedQuery<UserRow>(this.dataSource, { name: 'tessera_user_by_id', text: FIND_BY_ID, values: [id] });
      return row ? { id: row.id, username: row.username, passwordHash: row.password_hash, disabledAt: row.disabled_at, createdAt: row.created_at } : null;
    });
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

interface UserRow {
  id: string;
  username: string;
  password_hash: string;
  disabled_at: Date | null;
  created_at: Date;
}

const FIND_BY_ID = `SELECT id, username, password_hash, disabled_at, created_at FROM users WHERE id = $1`;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The domain user of a row (without `usernameKey`), or null. */
export function toUser(row: UserEntity | null): User | null {
  if (!row) return null;
  const { usernameKey: _, ...user } = row;
  return { ...user };
}
