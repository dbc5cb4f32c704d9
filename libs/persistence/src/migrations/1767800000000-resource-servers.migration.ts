import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The resource-server role: the resources a client serves (it may introspect their tokens and read the
 * revocation feed for them) and the key of its feed pseudonyms. A revoked token's audience, so the feed
 * gives each resource server only its own; entries recorded before have none (null) and go to every one.
 */
export class ResourceServers1767800000000 implements MigrationInterface {
  name = 'ResourceServers1767800000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE clients ADD COLUMN resource_server_for text[] NOT NULL DEFAULT '{}'`);
    await db.query(`ALTER TABLE clients ADD COLUMN revocation_feed_key varchar(64)`);
    await db.query(`ALTER TABLE revocations ADD COLUMN audience text[]`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE revocations DROP COLUMN audience`);
    await db.query(`ALTER TABLE clients DROP COLUMN revocation_feed_key`);
    await db.query(`ALTER TABLE clients DROP COLUMN resource_server_for`);
  }
}
