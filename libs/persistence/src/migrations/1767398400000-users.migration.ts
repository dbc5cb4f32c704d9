import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Users who sign in (issue 5). Plain SQL valid on PostgreSQL 15 and later. */
export class Users1767398400000 implements MigrationInterface {
  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE users (
        id uuid NOT NULL,
        username varchar(255) NOT NULL,
        username_key varchar(255) NOT NULL,
        password_hash varchar(255) NOT NULL,
        disabled_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT users_pkey PRIMARY KEY (id),
        CONSTRAINT users_username_key_key UNIQUE (username_key),
        CONSTRAINT users_username_key_check CHECK (username_key = lower(username))
      )`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE users`);
  }
}
