import type { User } from '@tessera/oauth-core';
import { Check, Column, Entity, PrimaryColumn, Unique } from 'typeorm';

/** A person who signs in. `username_key` (the username in lower case) makes usernames unique whatever their case. */
@Entity({ name: 'users' })
@Unique('users_username_key_key', ['usernameKey'])
@Check('users_username_key_check', `username_key = lower(username)`)
export class UserEntity implements User {
  @PrimaryColumn({ name: 'id', type: 'uuid' })
  id: string;

  @Column({ name: 'username', type: 'varchar', length: 255 })
  username: string;

  @Column({ name: 'username_key', type: 'varchar', length: 255 })
  usernameKey: string;

  @Column({ name: 'password_hash', type: 'varchar', length: 255 })
  passwordHash: string;

  @Column({ name: 'disabled_at', type: 'timestamptz', nullable: true })
  disabledAt: Date | null;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt: Date;
}
