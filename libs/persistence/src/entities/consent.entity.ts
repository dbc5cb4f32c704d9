import type { Consent } from '@tessera/oauth-core';
import { Column, Entity, ForeignKey, PrimaryColumn } from 'typeorm';
import { ClientEntity } from './client.entity.js';
import { UserEntity } from './user.entity.js';

/** What a user allowed a client, one row per user and client; a new grant merges into it. */
@Entity({ name: 'consents' })
export class ConsentEntity implements Consent {
  @PrimaryColumn({ name: 'user_id', type: 'uuid' })
  @ForeignKey(() => UserEntity, { name: 'consents_user_id_fkey', onDelete: 'CASCADE' })
  userId: string;

  @PrimaryColumn({ name: 'client_id', type: 'varchar', length: 64 })
  @ForeignKey(() => ClientEntity, { name: 'consents_client_id_fkey', onDelete: 'CASCADE' })
  clientId: string;

  @Column({ name: 'scopes', type: 'text', array: true })
  scopes: string[];

  @Column({ name: 'resources', type: 'text', array: true })
  resources: string[];

  @Column({ name: 'granted_at', type: 'timestamptz' })
  grantedAt: Date;
}
