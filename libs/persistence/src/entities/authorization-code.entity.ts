import { Column, Entity, ForeignKey, Index, PrimaryColumn } from 'typeorm';
import { ClientEntity } from './client.entity.js';

/** An authorization code (RFC 6749 §4.1) with its PKCE challenge (RFC 7636), kept by hash. */
@Entity({ name: 'authorization_codes' })
@Index('authorization_codes_expires_at_idx', ['expiresAt'])
export class AuthorizationCodeEntity {
  @PrimaryColumn({ name: 'code_hash', type: 'varchar', length: 64 })
  codeHash: string;

  @Column({ name: 'client_id', type: 'varchar', length: 64 })
  @ForeignKey(() => ClientEntity, { name: 'authorization_codes_client_id_fkey', onDelete: 'CASCADE' })
  clientId: string;

  @Column({ name: 'subject', type: 'varchar', length: 255 })
  subject: string;

  @Column({ name: 'redirect_uri', type: 'text' })
  redirectUri: string;

  @Column({ name: 'code_challenge', type: 'varchar', length: 128 })
  codeChallenge: string;

  @Column({ name: 'code_challenge_method', type: 'varchar', length: 16 })
  codeChallengeMethod: string;

  @Column({ name: 'scopes', type: 'text', array: true })
  scopes: string[];

  @Column({ name: 'audience', type: 'text', array: true })
  audience: string[];

  @Column({ name: 'grant_id', type: 'uuid', nullable: true })
  grantId: string | null;

  @Column({ name: 'issued_at', type: 'timestamptz' })
  issuedAt: Date;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt: Date;

  @Column({ name: 'redeemed_at', type: 'timestamptz', nullable: true })
  redeemedAt: Date | null;
}
