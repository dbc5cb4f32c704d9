import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/** One failed sign-in under one throttling key (`user:<hash of the username>` or `ip:<address>`). */
@Entity({ name: 'sign_in_failures' })
@Index('sign_in_failures_key_failed_at_idx', ['key', 'failedAt'])
@Index('sign_in_failures_failed_at_idx', ['failedAt'])
export class SignInFailureEntity {
  /** bigserial; node-postgres returns int8 as a string. */
  @PrimaryGeneratedColumn('increment', { name: 'id', type: 'bigint' })
  id: string;

  @Column({ name: 'key', type: 'varchar', length: 300 })
  key: string;

  @Column({ name: 'failed_at', type: 'timestamptz' })
  failedAt: Date;
}
