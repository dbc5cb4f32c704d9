import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The purger deletes expired refresh tokens and authorization codes in small batches, each picked by its expiry:
 * without an index there, every batch would read the whole table. (Access tokens, sessions, failed sign-ins and
 * revocation entries already have theirs.) Plain SQL valid on PostgreSQL 15 and later.
 */
export class PurgeIndexes1768300000000 implements MigrationInterface {
  name = 'PurgeIndexes1768300000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`CREATE INDEX refresh_tokens_expires_at_idx ON refresh_tokens (expires_at)`);
    await db.query(`CREATE INDEX authorization_codes_expires_at_idx ON authorization_codes (expires_at)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP INDEX authorization_codes_expires_at_idx`);
    await db.query(`DROP INDEX refresh_tokens_expires_at_idx`);
  }
}
