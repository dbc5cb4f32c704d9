import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * When each refresh-token family began, so rotation can cap it at an absolute lifetime. Existing rows get
 * their family's earliest issued_at (the oldest token still stored). Plain SQL valid on PostgreSQL 15 and later.
 */
export class RefreshTokenFamilyLifetime1767600000000 implements MigrationInterface {
  name = 'RefreshTokenFamilyLifetime1767600000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE refresh_tokens ADD COLUMN family_issued_at timestamptz`);
    await db.query(`
      UPDATE refresh_tokens AS t
      SET family_issued_at = f.first_issued_at
      FROM (SELECT family_id, min(issued_at) AS first_issued_at FROM refresh_tokens GROUP BY family_id) AS f
      WHERE t.family_id = f.family_id`);
    await db.query(`ALTER TABLE refresh_tokens ALTER COLUMN family_issued_at SET NOT NULL`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE refresh_tokens DROP COLUMN family_issued_at`);
  }
}
