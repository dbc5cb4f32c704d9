import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The resource server's own tables. Plain SQL valid on PostgreSQL 15 and later (gen_random_uuid() is built in since 13). */
export class NotesSchema1767312000000 implements MigrationInterface {
  async up(db: QueryRunner): Promise<void> {
    // A note belongs to the subject of the token that created it, at that token's issuer.
    await db.query(`
      CREATE TABLE notes (
        id uuid NOT NULL DEFAULT gen_random_uuid(),
        issuer text NOT NULL,
        subject varchar(255) NOT NULL,
        title varchar(200) NOT NULL,
        body text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT notes_pkey PRIMARY KEY (id)
      )`);
    await db.query(`CREATE INDEX notes_owner_idx ON notes (issuer, subject, created_at)`);

    // The client this server registered at an authorization server (RFC 7591), to introspect tokens with.
    // The secret is kept as issued: it is presented to the issuer, so it cannot be hashed.
    await db.query(`
      CREATE TABLE registered_clients (
        issuer text NOT NULL,
        client_id varchar(64) NOT NULL,
        client_secret text NOT NULL,
        registered_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT registered_clients_pkey PRIMARY KEY (issuer)
      )`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('DROP TABLE registered_clients');
    await db.query('DROP TABLE notes');
  }
}
