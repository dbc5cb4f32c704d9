/** What a user has allowed a client: remembered, so the consent page is skipped for requests within it. */
export interface Consent {
  userId: string;
  clientId: string;
  scopes: string[];
  /** RFC 8707 resources (audiences) the user allowed the client to reach. */
  resources: string[];
  grantedAt: Date;
}
