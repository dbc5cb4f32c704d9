import type { Session } from '@tessera/oauth-core';
import { Column, Entity, ForeignKey, Index, PrimaryColumn, Unique } from 'typeorm';
import { UserEntity } from './user.entity.js';

/** A sign-in session, looked up by the hash of its cookie (never stored in clear). */
@Entity({ name: 'sessions' })
@Unique('sessions_token_hash_key', ['tokenHash'])
@Index('sessions_expires_at_idx', ['expiresAt'])
@Index('sessions_user_id_idx', ['userId'])
export class SessionEntity implements Session {
  @PrimaryColumn({ name: 'id', type: 'uuid' })
  id: string;

  /** hashToken of the cookie: SHA-256, base64url. */
  @Column({ name: 'token_hash', type: 'varchar', length: 64 })
  tokenHash: string;

  @Column({ name: 'user_id', type: 'uuid' })
  @ForeignKey(() => UserEntity, { name: 'sessions_user_id_fkey', onDelete: 'CASCADE' })
  userId: string;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt: Date;
}
