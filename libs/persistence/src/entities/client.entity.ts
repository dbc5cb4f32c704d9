import type { AccessTokenFormat, Client, TokenEndpointAuthMethod } from '@tessera/oauth-core';
import { Column, Entity, PrimaryColumn } from 'typeorm';

@Entity({ name: 'clients' })
export class ClientEntity implements Client {
  @PrimaryColumn({ name: 'client_id', type: 'varchar', length: 64 })
  clientId: string;

  @Column({ name: 'secret_hash', type: 'varchar', length: 128, nullable: true })
  secretHash: string | null;

  @Column({ name: 'client_name', type: 'varchar', length: 200, nullable: true })
  clientName: string | null;

  @Column({ name: 'grant_types', type: 'text', array: true })
  grantTypes: string[];

  @Column({ name: 'scopes', type: 'text', array: true })
  scopes: string[];

  @Column({ name: 'token_endpoint_auth_method', type: 'varchar', length: 32 })
  tokenEndpointAuthMethod: TokenEndpointAuthMethod;

  @Column({ name: 'redirect_uris', type: 'text', array: true })
  redirectUris: string[];

  @Column({ name: 'access_token_format', type: 'varchar', length: 16 })
  accessTokenFormat: AccessTokenFormat;

  @Column({ name: 'access_token_ttl', type: 'integer', nullable: true })
  accessTokenTtl: number | null;

  @Column({ name: 'resources', type: 'text', array: true })
  resources: string[];

  @Column({ name: 'resource_server_for', type: 'text', array: true, default: () => "'{}'" })
  resourceServerFor: string[];

  @Column({ name: 'revocation_feed_key', type: 'varchar', length: 64, nullable: true })
  revocationFeedKey: string | null;

  @Column({ name: 'registration_access_token_hash', type: 'varchar', length: 64, nullable: true })
  registrationAccessTokenHash: string | null;

  @Column({ name: 'disabled_at', type: 'timestamptz', nullable: true })
  disabledAt: Date | null;

  @Column({ name: 'deleted_at', type: 'timestamptz', nullable: true })
  deletedAt: Date | null;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt: Date;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt: Date;
}
