import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Revocations of every token a signing key signed (a key retired because it may be compromised): kind 'key', by kid, with no client. */
export class SigningKeyRevocations1767400000000 implements MigrationInterface {
  name = 'SigningKeyRevocations1767400000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE revocations ADD COLUMN kid varchar(128)`);
    await db.query(`ALTER TABLE revocations ALTER COLUMN client_id DROP NOT NULL`);
    await db.query(`ALTER TABLE revocations DROP CONSTRAINT revocations_kind_check`);
    await db.query(`
      ALTER TABLE revocations ADD CONSTRAINT revocations_kind_check CHECK (
        (kind = 'token' AND jti IS NOT NULL AND client_id IS NOT NULL AND kid IS NULL)
        OR (kind = 'issued-before' AND jti IS NULL AND issued_before IS NOT NULL AND client_id IS NOT NULL AND kid IS NULL)
        OR (kind = 'key' AND kid IS NOT NULL AND jti IS NULL AND client_id IS NULL)
      )`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DELETE FROM revocations WHERE kind = 'key'`);
    await db.query(`ALTER TABLE revocations DROP CONSTRAINT revocations_kind_check`);
    await db.query(`
      ALTER TABLE revocations ADD CONSTRAINT revocations_kind_check CHECK (
        (kind = 'token' AND jti IS NOT NULL)
        OR (kind = 'issued-before' AND jti IS NULL AND issued_before IS NOT NULL)
      )`);
    await db.query(`ALTER TABLE revocations ALTER COLUMN client_id SET NOT NULL`);
    await db.query(`ALTER TABLE revocations DROP COLUMN kid`);
  }
}
