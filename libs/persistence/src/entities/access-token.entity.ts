import { Column, Entity, ForeignKey, Index, PrimaryColumn, Unique } from 'typeorm';
import { ClientEntity } from './client.entity.js';

/** An opaque access token, kept by hash. JWTs are never written at issuance. */
@Entity({ name: 'access_tokens' })
@Unique('access_tokens_jti_key', ['jti'])
@Index('access_tokens_expires_at_idx', ['expiresAt'])
export class AccessTokenEntity {
  /** base64url SHA-256 of the token. */
  @PrimaryColumn({ name: 'token_hash', type: 'varchar', length: 64 })
  tokenHash: string;

  @Column({ name: 'jti', type: 'varchar', length: 64 })
  jti: string;

  @Column({ name: 'client_id', type: 'varchar', length: 64 })
  @ForeignKey(() => ClientEntity, { name: 'access_tokens_client_id_fkey', onDelete: 'CASCADE' })
  clientId: string;

  @Column({ name: 'issuer', type: 'text' })
  issuer: string;

  @Column({ name: 'subject', type: 'varchar', length: 255 })
  subject: string;

  @Column({ name: 'audience', type: 'text', array: true })
  audience: string[];

  @Column({ name: 'scopes', type: 'text', array: true })
  scopes: string[];

  @Column({ name: 'grant_id', type: 'uuid', nullable: true })
  grantId: string | null;

  @Column({ name: 'issued_at', type: 'timestamptz' })
  issuedAt: Date;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt: Date;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt: Date | null;
}
