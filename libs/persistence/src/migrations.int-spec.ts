import { createTestDatabase } from '@tessera/testing';
import type { DataSource } from 'typeorm';
import { createDataSource, migrations } from './data-source.js';

const TABLES = [
  'access_tokens',
  'authorization_codes',
  'clients',
  'consents',
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
});
