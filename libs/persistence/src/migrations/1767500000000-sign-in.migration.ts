import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Sign-in at the authorization server: sessions (by cookie hash), remembered consents, and failed sign-ins for throttling. Plain SQL valid on PostgreSQL 15 and later. */
export class SignIn1767500000000 implements MigrationInterface {
  name = 'SignIn1767500000000';

  async up(db: QueryRunner): Promise<void> {
    // token_hash: hashToken's SHA-256 in base64url (43 characters); 64 also fits hex.
    await db.query(`
      CREATE TABLE sessions (
        id uuid NOT NULL,
        token_hash varchar(64) NOT NULL,
        user_id uuid NOT NULL,
        created_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        CONSTRAINT sessions_pkey PRIMARY KEY (id),
        CONSTRAINT sessions_token_hash_key UNIQUE (token_hash),
        CONSTRAINT sessions_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
      )`);
    await db.query(`CREATE INDEX sessions_expires_at_idx ON sessions (expires_at)`);
    await db.query(`CREATE INDEX sessions_user_id_idx ON sessions (user_id)`);

    await db.query(`
      CREATE TABLE consents (
        user_id uuid NOT NULL,
        client_id varchar(64) NOT NULL,
        scopes text[] NOT NULL,
        resources text[] NOT NULL,
        granted_at timestamptz NOT NULL,
        CONSTRAINT consents_pkey PRIMARY KEY (user_id, client_id),
        CONSTRAINT consents_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
        CONSTRAINT consents_client_id_fkey FOREIGN KEY (client_id) REFERENCES clients (client_id) ON DELETE CASCADE
      )`);

    await db.query(`
      CREATE TABLE sign_in_failures (
        id bigserial NOT NULL,
        key varchar(300) NOT NULL,
        failed_at timestamptz NOT NULL,
        CONSTRAINT sign_in_failures_pkey PRIMARY KEY (id)
      )`);
    await db.query(`CREATE INDEX sign_in_failures_key_failed_at_idx ON sign_in_failures (key, failed_at)`);
    await db.query(`CREATE INDEX sign_in_failures_failed_at_idx ON sign_in_failures (failed_at)`);
  }

  async down(db: QueryRunner): Promise<void> {
    for (const table of ['sign_in_failures', 'consents', 'sessions']) {
      await db.query(`DROP TABLE ${table}`);
    }
  }
}
