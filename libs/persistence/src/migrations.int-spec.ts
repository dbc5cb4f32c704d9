import { createTestDatabase } from '@tessera/testing';
import type { DataSource } from 'typeorm';
import { createDataSource, migrations } from './data-source.js';
import { RefreshTokenFamilyLifetime1767600000000 } from './migrations/1767600000000-refresh-token-family-lifetime.migration.js';

const TABLES = [
  'access_tokens',
  'authorization_codes',
  'clients',
  'consents',
  'rate_limit_counts',
  'refresh_tokens',
  'revocations',
  'sessions',
  'sign_in_failures',
  'signing_keys',
  'users',
];

describe('migrations', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let dataSource: DataSource;

  beforeAll(async () => {
    db = await createTestDatabase();
    dataSource = await createDataSource(db.url).initialize();
  });
  afterAll(async () => {
    await dataSource?.destroy();
    await db?.drop();
  });

  const tables = async (): Promise<string[]> =>
    (
      await dataSource.query<{ table_name: string }[]>(
        `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_name <> 'migrations' ORDER BY table_name`,
      )
    ).map((r) => r.table_name);

  it('run up on an empty database, leaving a schema the entities describe exactly', async () => {
    expect(await tables()).toEqual([]);
    const ran = await dataSource.runMigrations();
    expect(ran.map((m) => m.name)).toEqual(migrations.map((m) => m.name));
    expect(await tables()).toEqual(TABLES);
    const drift = await dataSource.driver.createSchemaBuilder().log();
    expect(drift.upQueries.map((q) => q.query)).toEqual([]);
  });

  it('revert cleanly down, and run up again', async () => {
    for (const _ of migrations) await dataSource.undoLastMigration();
    expect(await tables()).toEqual([]);
    expect(await dataSource.showMigrations()).toBe(true);
    await dataSource.runMigrations();
    expect(await tables()).toEqual(TABLES);
    expect(await dataSource.showMigrations()).toBe(false);
  });

  it('keep the rate-limit counts in an unlogged table (no WAL per flush)', async () => {
    const [row] = await dataSource.query<{ relpersistence: string }[]>(`SELECT relpersistence FROM pg_class WHERE relname = 'rate_limit_counts'`);
    expect(row).toEqual({ relpersistence: 'u' });
  });

  it('backfill the start of each refresh-token family with its earliest issued_at', async () => {
    // Back to the schema before the migration, whatever came after it.
    const from = migrations.indexOf(RefreshTokenFamilyLifetime1767600000000);
    for (const _ of migrations.slice(from)) await dataSource.undoLastMigration();
    await dataSource.query(`
      INSERT INTO clients (client_id, grant_types, scopes, token_endpoint_auth_method, redirect_uris, access_token_format, resources)
      VALUES ('backfill-client', '{authorization_code,refresh_token}', '{read}', 'none', '{https://app.example/cb}', 'opaque', '{}')`);
    const [a, b] = ['00000000-0000-4000-8000-00000000000a', '00000000-0000-4000-8000-00000000000b'];
    const rows: [hash: string, family: string, issuedAt: string][] = [
      ['a2', a, '2026-01-20T00:00:00Z'],
      ['a1', a, '2026-01-01T08:30:00.250Z'],
      ['a3', a, '2026-02-10T00:00:00Z'],
      ['b1', b, '2026-01-15T00:00:00Z'],
    ];
    for (const [hash, family, issuedAt] of rows) {
      await dataSource.query(
        `INSERT INTO refresh_tokens (token_hash, family_id, client_id, subject, scopes, audience, grant_id, issued_at, expires_at)
         VALUES ($1, $2, 'backfill-client', 'alice', '{read}', '{}', $2, $3, $3::timestamptz + interval '30 days')`,
        [hash, family, issuedAt],
      );
    }

    await dataSource.runMigrations();

    const backfilled = await dataSource.query<{ token_hash: string; family_issued_at: Date }[]>(
      `SELECT token_hash, family_issued_at FROM refresh_tokens ORDER BY token_hash`,
    );
    expect(backfilled).toEqual([
      { token_hash: 'a1', family_issued_at: new Date('2026-01-01T08:30:00.250Z') },
      { token_hash: 'a2', family_issued_at: new Date('2026-01-01T08:30:00.250Z') },
      { token_hash: 'a3', family_issued_at: new Date('2026-01-01T08:30:00.250Z') },
      { token_hash: 'b1', family_issued_at: new Date('2026-01-15T00:00:00Z') },
    ]);
    await expect(dataSource.query(`UPDATE refresh_tokens SET family_issued_at = NULL WHERE token_hash = 'b1'`)).rejects.toThrow(/null value/);
    await dataSource.query(`DELETE FROM clients WHERE client_id = 'backfill-client'`);
  });
});
