import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Every token check asks whether its signing key was revoked (`kind = 'key' AND kid = $1`) and whether an
 * issued-before mark of its client covers it. Without an index on kid, the first read the whole revocation
 * log; with only the client_id index, the second read every revoked jti of the client as well. Both now
 * read only the entries of their kind.
 */
export class RevocationIndexes1768000000000 implements MigrationInterface {
  name = 'RevocationIndexes1768000000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`CREATE INDEX revocations_kid_idx ON revocations (kid) WHERE kind = 'key'`);
    await db.query(`CREATE INDEX revocations_marks_idx ON revocations (client_id, issued_before) WHERE kind = 'issued-before'`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP INDEX revocations_marks_idx`);
    await db.query(`DROP INDEX revocations_kid_idx`);
  }
}
