import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Request counts of the rate limits, per key and fixed window, shared by every auth-server instance.
 *
 * UNLOGGED: the counts are written many times a second and matter for one window (a minute by default). An
 * unlogged table skips the write-ahead log, so each flush costs no WAL write or fsync, and it is not copied to
 * standbys. What that gives up is harmless here: after a crash PostgreSQL empties the table, and after a failover
 * the new primary has it empty, so the current windows start again from zero.
 */
export class RateLimitCounts1768100000000 implements MigrationInterface {
  name = 'RateLimitCounts1768100000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE UNLOGGED TABLE rate_limit_counts (
        key text NOT NULL,
        window_start timestamptz NOT NULL,
        hits bigint NOT NULL,
        PRIMARY KEY (key, window_start)
      )`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE rate_limit_counts`);
  }
}
