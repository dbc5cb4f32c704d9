import type { Client } from '../domain/client.js';

export type ClientChanges = Partial<
  Pick<
    Client,
    | 'secretHash'
    | 'clientName'
    | 'grantTypes'
    | 'scopes'
    | 'tokenEndpointAuthMethod'
    | 'redirectUris'
    | 'accessTokenFormat'
    | 'accessTokenTtl'
    | 'resources'
    | 'resourceServerFor'
    | 'revocationFeedKey'
    | 'registrationAccessTokenHash'
    | 'disabledAt'
    | 'deletedAt'
  >
>;

export abstract class ClientRepository {
  abstract findById(clientId: string): Promise<Client | null>;
  abstract create(client: Client): Promise<void>;
  /**
   * Applies `changes`. When `revokeTokensIssuedBefore` is given, a revocation of
   * every token of the client issued before that instant is recorded in the
   * same transaction. Returns the updated client, or null when unknown.
   */
  abstract update(clientId: string, changes: ClientChanges, revokeTokensIssuedBefore?: Date): Promise<Client | null>;
  abstract list(): Promise<Client[]>;
  /**
   * Replaces the client's secret hash with `next` (the same secret, stored another way) only while it is still
   * `expected`, so that it never undoes a secret rotated meanwhile. True when replaced.
   */
  abstract replaceSecretHash(clientId: string, expected: string, next: string): Promise<boolean>;
}
