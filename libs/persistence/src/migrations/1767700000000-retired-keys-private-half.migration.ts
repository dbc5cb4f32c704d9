import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A retired signing key keeps only its public half: the private key of every retired key is destroyed (NULL),
 * and a check keeps it that way (the active key has one, a retired key none). Plain SQL valid on PostgreSQL 15 and later.
 */
export class RetiredKeysPrivateHalf1767700000000 implements MigrationInterface {
  name = 'RetiredKeysPrivateHalf1767700000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE signing_keys ALTER COLUMN private_key DROP NOT NULL`);
    await db.query(`UPDATE signing_keys SET private_key = NULL WHERE status = 'retired'`);
    await db.query(
      `ALTER TABLE signing_keys ADD CONSTRAINT signing_keys_private_key_check CHECK ((status = 'active') = (private_key IS NOT NULL))`,
    );
  }

  async down(db: QueryRunner): Promise<void> {
    // The destroyed private keys cannot come back: retired keys get an empty placeholder.
    await db.query(`ALTER TABLE signing_keys DROP CONSTRAINT signing_keys_private_key_check`);
    await db.query(`UPDATE signing_keys SET private_key = '' WHERE private_key IS NULL`);
    await db.query(`ALTER TABLE signing_keys ALTER COLUMN private_key SET NOT NULL`);
  }
}
