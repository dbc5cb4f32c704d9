import { Column, Entity, PrimaryColumn } from 'typeorm';

/** The client this resource server registered at `issuer` (RFC 7591), reused on later starts. */
@Entity('registered_clients')
export class RegisteredClientEntity {
  @PrimaryColumn({ type: 'text' })
  issuer: string;

  @Column({ name: 'client_id', type: 'varchar', length: 64 })
  clientId: string;

  @Column({ name: 'client_secret', type: 'text' })
  clientSecret: string;

  @Column({ name: 'registered_at', type: 'timestamptz', default: () => 'now()' })
  registeredAt: Date;
}
