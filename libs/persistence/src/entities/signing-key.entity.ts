import type { SigningAlgorithm, SigningKeyRecord } from '@tessera/oauth-core';
import { Check, Column, Entity, Index, PrimaryColumn } from 'typeorm';

@Entity({ name: 'signing_keys' })
@Check('signing_keys_status_check', `status IN ('active', 'retired')`)
// A retired key's private half is destroyed.
@Check('signing_keys_private_key_check', `(status = 'active') = (private_key IS NOT NULL)`)
// At most one active key; insertFirst relies on it (ON CONFLICT DO NOTHING).
@Index('signing_keys_one_active_key', ['status'], { unique: true, where: `status = 'active'` })
export class SigningKeyEntity implements SigningKeyRecord {
  @PrimaryColumn({ name: 'kid', type: 'varchar', length: 128 })
  kid: string;

  @Column({ name: 'alg', type: 'varchar', length: 16 })
  alg: SigningAlgorithm;

  @Column({ name: 'public_jwk', type: 'jsonb' })
  publicJwk: Record<string, unknown>;

  @Column({ name: 'private_key', type: 'text', nullable: true })
  privateKey: string | null;

  @Column({ name: 'status', type: 'varchar', length: 16 })
  status: 'active' | 'retired';

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt: Date;

  @Column({ name: 'retired_at', type: 'timestamptz', nullable: true })
  retiredAt: Date | null;

  @Column({ name: 'publish_until', type: 'timestamptz', nullable: true })
  publishUntil: Date | null;
}
