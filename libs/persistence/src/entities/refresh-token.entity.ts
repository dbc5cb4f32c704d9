import { Column, Entity, ForeignKey, Index, PrimaryColumn } from 'typeorm';
import { ClientEntity } from './client.entity.js';

/** A refresh token, kept by hash; rotation replaces it within its family. */
@Entity({ name: 'refresh_tokens' })
@Index('refresh_tokens_family_id_idx', ['familyId'])
@Index('refresh_tokens_expires_at_idx', ['expiresAt'])
export class RefreshTokenEntity {
  @PrimaryColumn({ name: 'token_hash', type: 'varchar', length: 64 })
  tokenHash: string;

  @Column({ name: 'family_id', type: 'uuid' })
  familyId: string;

  @Column({ name: 'client_id', type: 'varchar', length: 64 })
  @ForeignKey(() => ClientEntity, { name: 'refresh_tokens_client_id_fkey', onDelete: 'CASCADE' })
  clientId: string;

  @Column({ name: 'subject', type: 'varchar', length: 255 })
  subject: string;

  @Column({ name: 'scopes', type: 'text', array: true })
  scopes: string[];

  @Column({ name: 'audience', type: 'text', array: true })
  audience: string[];

  @Column({ name: 'grant_id', type: 'uuid', nullable: true })
  grantId: string | null;

  @Column({ name: 'issued_at', type: 'timestamptz' })
  issuedAt: Date;

  /** When the family's first token was issued: its absolute lifetime counts from here. */
  @Column({ name: 'family_issued_at', type: 'timestamptz' })
  familyIssuedAt: Date;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt: Date;

  @Column({ name: 'rotated_at', type: 'timestamptz', nullable: true })
  rotatedAt: Date | null;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt: Date | null;
}
