import { Test } from '@nestjs/testing';
import {
  AccessTokenRepository,
  AuthorizationCodeRepository,
  ChangeFeed,
  ClientRepository,
  HealthCheck,
  RefreshTokenRepository,
  RevocationRepository,
  SigningKeyRepository,
  UserRepository,
  type ChangeEvent,
} from '@tessera/oauth-core';
import { aClient, createTestDatabase, someClaims } from '@tessera/testing';
import pg from 'pg';
import { migrations } from './data-source.js';
import { isDatabaseOutage } from './database-outage.js';
import { PersistenceModule } from './persistence.module.js';
import { PostgresChangeFeed } from './postgres-change.feed.js';
import { TypeOrmAccessTokenRepository } from './typeorm-access-token.repository.js';
import { TypeOrmAuthorizationCodeRepository } from './typeorm-authorization-code.repository.js';
import { TypeOrmRefreshTokenRepository } from './typeorm-refresh-token.repository.js';
import { TypeOrmUserRepository } from './typeorm-user.repository.js';
import { TypeOrmClientRepository } from './typeorm-client.repository.js';
import { TypeOrmHealthCheck } from './typeorm-health.check.js';
import { TypeOrmRevocationRepository } from './typeorm-revocation.repository.js';
import { TypeOrmSigningKeyRepository } from './typeorm-signing-key.repository.js';

describe('PersistenceModule', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  beforeAll(async () => (db = await createTestDatabase()));
  afterAll(() => db?.drop());

  const query = async <T>(sql: string): Promise<T[]> => {
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      return (await client.query(sql)).rows;
    } finally {
      await client.end();
    }
  };

  it('migrates at boot and provides every port, the change feed closing with the app', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [PersistenceModule.forRoot({ url: db.url, maxTokenTtlSeconds: 7200 })],
    }).compile();
    const app = await moduleRef.init();

    expect(await query('SELECT name FROM migrations ORDER BY id')).toEqual(migrations.map((m) => ({ name: m.name })));
    expect(app.get(ClientRepository)).toBeInstanceOf(TypeOrmClientRepository);
    expect(app.get(AccessTokenRepository)).toBeInstanceOf(TypeOrmAccessTokenRepository);
    expect(app.get(RevocationRepository)).toBeInstanceOf(TypeOrmRevocationRepository);
    expect(app.get(SigningKeyRepository)).toBeInstanceOf(TypeOrmSigningKeyRepository);
    expect(app.get(HealthCheck)).toBeInstanceOf(TypeOrmHealthCheck);
    expect(app.get(UserRepository)).toBeInstanceOf(TypeOrmUserRepository);
    expect(app.get(AuthorizationCodeRepository)).toBeInstanceOf(TypeOrmAuthorizationCodeRepository);
    expect(app.get(RefreshTokenRepository)).toBeInstanceOf(TypeOrmRefreshTokenRepository);
    expect(app.get(ChangeFeed)).toBeInstanceOf(PostgresChangeFeed);
    await app.get(HealthCheck).ping();

    const events: ChangeEvent[] = [];
    app.get(ChangeFeed).subscribe((e) => events.push(e));
    const client = aClient();
    const cutoff = new Date('2026-06-01T00:00:00Z');
    await app.get(ClientRepository).create(client);
    await app.get(ClientRepository).update(client.clientId, {}, cutoff);
    expect(await app.get(RevocationRepository).isRevoked(someClaims({ clientId: client.clientId }))).toBe(true);
    // the issued-before mark is kept for the longest token lifetime given
    expect(await query(`SELECT extract(epoch FROM expires_at - issued_before)::int AS kept FROM revocations`)).toEqual([{ kept: 7200 }]);
    for (let i = 0; i < 100 && events.length < 3; i++) await new Promise((r) => setTimeout(r, 20));
    expect(events).toEqual([
      { kind: 'client', clientId: client.clientId },
      { kind: 'revocation' },
      { kind: 'client', clientId: client.clientId },
    ]);

    await app.close();
    // the pool and the LISTEN connection are gone; only this query's own connection remains
    expect(await query(`SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`)).toEqual([]);
  });

  it('leaves the schema alone when told not to migrate', async () => {
    const other = await createTestDatabase();
    try {
      const moduleRef = await Test.createTestingModule({
        imports: [PersistenceModule.forRoot({ url: other.url, migrationsRun: false })],
      }).compile();
      const app = await moduleRef.init();
      await app.get(HealthCheck).ping();
      await app.close();
      const probe = new pg.Client({ connectionString: other.url });
      await probe.connect();
      const { rows } = await probe.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'`);
      await probe.end();
      expect(rows).toEqual([]);
    } finally {
      await other.drop();
    }
  });

  it('gives up booting after the configured attempts when PostgreSQL is unreachable', async () => {
    const dead = new URL(db.url);
    dead.port = '1'; // nothing listens there
    const started = Date.now();
    const error = await Test.createTestingModule({
      imports: [PersistenceModule.forRoot({ url: dead.toString(), retryAttempts: 3, retryDelayMs: 50 })],
    })
      .compile()
      .catch((e: unknown) => e);
    expect(isDatabaseOutage(error)).toBe(true);
    expect(Date.now() - started).toBeLessThan(3000);
  });
});
