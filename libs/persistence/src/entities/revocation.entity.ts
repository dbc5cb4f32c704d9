import { Check, Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * Append-only revocation log: one token by `jti`, or every token of a client
 * (optionally narrowed to a subject or grant) issued before `issuedBefore`.
 * `seq` is the cursor of the revocation feed.
 */
@Entity({ name: 'revocations' })
@Check(
  'revocations_kind_check',
  `(kind = 'token' AND jti IS NOT NULL AND client_id IS NOT NULL AND kid IS NULL) ` +
    `OR (kind = 'issued-before' AND jti IS NULL AND issued_before IS NOT NULL AND client_id IS NOT NULL AND kid IS NULL) ` +
    `OR (kind = 'key' AND kid IS NOT NULL AND jti IS NULL AND client_id IS NULL)`,
)
@Index('revocations_jti_key', ['jti'], { unique: true })
@Index('revocations_client_id_idx', ['clientId'])
@Index('revocations_expires_at_idx', ['expiresAt'])
@Index('revocations_kid_idx', ['kid'], { where: `kind = 'key'` })
@Index('revocations_marks_idx', ['clientId', 'issuedBefore'], { where: `kind = 'issued-before'` })
export class RevocationEntity {
  /**
   * bigserial. node-postgres returns int8 as a string (it may exceed 2^53), and
   * so does this property: compare cursors with BigInt(seq), never as strings.
   */
  @PrimaryGeneratedColumn('increment', { name: 'seq', type: 'bigint' })
  seq: string;

  @Column({ name: 'kind', type: 'varchar', length: 16 })
  kind: 'token' | 'issued-before' | 'key';

  @Column({ name: 'jti', type: 'varchar', length: 64, nullable: true })
  jti: string | null;

  /** Null for a 'key' revocation. */
  @Column({ name: 'client_id', type: 'varchar', length: 64, nullable: true })
  clientId: string | null;

  /** The signing key of a 'key' revocation. */
  @Column({ name: 'kid', type: 'varchar', length: 128, nullable: true })
  kid: string | null;

  @Column({ name: 'subject', type: 'varchar', length: 255, nullable: true })
  subject: string | null;

  @Column({ name: 'grant_id', type: 'uuid', nullable: true })
  grantId: string | null;

  /** The audiences of the token a 'token' revocation revokes; null for other kinds, and for entries recorded before audiences were. */
  @Column({ name: 'audience', type: 'text', array: true, nullable: true })
  audience: string[] | null;

  @Column({ name: 'issued_before', type: 'timestamptz', nullable: true })
  issuedBefore: Date | null;

  /** Purge after this instant: no token the record matches can still be unexpired. */
  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt: Date;

  @Column({ name: 'revoked_at', type: 'timestamptz' })
  revokedAt: Date;
}
