import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * RFC 7592 client management: the hash of a client's registration access token (sha256, base64url, as other
 * tokens are kept), and when the client was deleted. A deleted client keeps its row (disabled, its tokens
 * revoked by an issued-before mark) so that its client_id is never handed out or accepted again.
 */
export class ClientManagement1768200000000 implements MigrationInterface {
  name = 'ClientManagement1768200000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE clients ADD COLUMN registration_access_token_hash varchar(64)`);
    await db.query(`ALTER TABLE clients ADD COLUMN deleted_at timestamptz`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE clients DROP COLUMN deleted_at`);
    await db.query(`ALTER TABLE clients DROP COLUMN registration_access_token_hash`);
  }
}
