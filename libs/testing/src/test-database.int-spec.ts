import pg from 'pg';
import { createTestDatabase } from './test-database.js';

describe('createTestDatabase', () => {
  it('gives a fresh UTF-8 database on a real PostgreSQL', async () => {
    const db = await createTestDatabase();
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    const { rows } = await c.query(`SELECT current_setting('server_encoding') AS enc, version() AS v`);
    await c.end();
    await db.drop();
    expect(rows[0].enc).toBe('UTF8');
    expect(rows[0].v).toMatch(/PostgreSQL/);
  });
});
