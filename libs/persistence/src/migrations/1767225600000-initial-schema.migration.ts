import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Every table of Tessera 0.1. Plain SQL valid on PostgreSQL 15 and later. */
export class InitialSchema1767225600000 implements MigrationInterface {
  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE clients (
        client_id varchar(64) NOT NULL,
        secret_hash varchar(128),
        client_name varchar(200),
        grant_types text[] NOT NULL,
        scopes text[] NOT NULL,
        token_endpoint_auth_method varchar(32) NOT NULL,
        redirect_uris text[] NOT NULL,
        access_token_format varchar(16) NOT NULL,
        access_token_ttl integer,
        resources text[] NOT NULL,
        disabled_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT clients_pkey PRIMARY KEY (client_id)
      )`);

    await db.query(`
      CREATE TABLE access_tokens (
        token_hash varchar(64) NOT NULL,
        jti varchar(64) NOT NULL,
        client_id varchar(64) NOT NULL,
        issuer text NOT NULL,
        subject varchar(255) NOT NULL,
        audience text[] NOT NULL,
        scopes text[] NOT NULL,
        grant_id uuid,
        issued_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        revoked_at timestamptz,
        CONSTRAINT access_tokens_pkey PRIMARY KEY (token_hash),
        CONSTRAINT access_tokens_jti_key UNIQUE (jti),
        CONSTRAINT access_tokens_client_id_fkey FOREIGN KEY (client_id) REFERENCES clients (client_id) ON DELETE CASCADE
      )`);
    await db.query(`CREATE INDEX access_tokens_expires_at_idx ON access_tokens (expires_at)`);

    await db.query(`
      CREATE TABLE refresh_tokens (
        token_hash varchar(64) NOT NULL,
        family_id uuid NOT NULL,
        client_id varchar(64) NOT NULL,
        subject varchar(255) NOT NULL,
        scopes text[] NOT NULL,
        audience text[] NOT NULL,
        grant_id uuid,
        issued_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        rotated_at timestamptz,
        revoked_at timestamptz,
        CONSTRAINT refresh_tokens_pkey PRIMARY KEY (token_hash),
        CONSTRAINT refresh_tokens_client_id_fkey FOREIGN KEY (client_id) REFERENCES clients (client_id) ON DELETE CASCADE
      )`);
    await db.query(`CREATE INDEX refresh_tokens_family_id_idx ON refresh_tokens (family_id)`);

    await db.query(`
      CREATE TABLE authorization_codes (
        code_hash varchar(64) NOT NULL,
        client_id varchar(64) NOT NULL,
        subject varchar(255) NOT NULL,
        redirect_uri text NOT NULL,
        code_challenge varchar(128) NOT NULL,
        code_challenge_method varchar(16) NOT NULL,
        scopes text[] NOT NULL,
        audience text[] NOT NULL,
        grant_id uuid,
        issued_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        redeemed_at timestamptz,
        CONSTRAINT authorization_codes_pkey PRIMARY KEY (code_hash),
        CONSTRAINT authorization_codes_client_id_fkey FOREIGN KEY (client_id) REFERENCES clients (client_id) ON DELETE CASCADE
      )`);

    await db.query(`
      CREATE TABLE signing_keys (
        kid varchar(128) NOT NULL,
        alg varchar(16) NOT NULL,
        public_jwk jsonb NOT NULL,
        private_key text NOT NULL,
        status varchar(16) NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        retired_at timestamptz,
        publish_until timestamptz,
        CONSTRAINT signing_keys_pkey PRIMARY KEY (kid),
        CONSTRAINT signing_keys_status_check CHECK (status IN ('active', 'retired'))
      )`);
    // At most one active key: concurrent first starts race on this index (INSERT ... ON CONFLICT DO NOTHING).
    await db.query(`CREATE UNIQUE INDEX signing_keys_one_active_key ON signing_keys (status) WHERE status = 'active'`);

    await db.query(`
      CREATE TABLE revocations (
        seq bigserial NOT NULL,
        kind varchar(16) NOT NULL,
        jti varchar(64),
        client_id varchar(64) NOT NULL,
        subject varchar(255),
        grant_id uuid,
        issued_before timestamptz,
        expires_at timestamptz NOT NULL,
        revoked_at timestamptz NOT NULL,
        CONSTRAINT revocations_pkey PRIMARY KEY (seq),
        CONSTRAINT revocations_kind_check CHECK (
          (kind = 'token' AND jti IS NOT NULL)
          OR (kind = 'issued-before' AND jti IS NULL AND issued_before IS NOT NULL)
        )
      )`);
    // Unique: revoking a jti twice records it once (issued-before rows have no jti, and NULLs never collide).
    await db.query(`CREATE UNIQUE INDEX revocations_jti_key ON revocations (jti)`);
    await db.query(`CREATE INDEX revocations_client_id_idx ON revocations (client_id)`);
    await db.query(`CREATE INDEX revocations_expires_at_idx ON revocations (expires_at)`);
  }

  async down(db: QueryRunner): Promise<void> {
    for (const table of ['revocations', 'signing_keys', 'authorization_codes', 'refresh_tokens', 'access_tokens', 'clients']) {
      await db.query(`DROP TABLE ${table}`);
    }
  }
}
