// Every grant Tessera knows, by grant_type: the one line a new grant adds (STYLE.md, "A new grant").
import type { AuthServerConfig, GrantType } from '@tessera/config';
import {
  AuthorizationCodeGrant,
  ClientCredentialsGrant,
  RefreshTokenGrant,
  type AccessTokenIssuer,
  type AuditLog,
  type AuthorizationCodeRepository,
  type Clock,
  type Grant,
  type RefreshTokenIssuer,
  type RefreshTokenRepository,
  type UserRepository,
} from '@tessera/oauth-core';

/** What a grant may be built from. */
export interface GrantDependencies {
  issuer: AccessTokenIssuer;
  refreshTokenIssuer: RefreshTokenIssuer;
  codes: AuthorizationCodeRepository;
  refreshTokens: RefreshTokenRepository;
  users: UserRepository;
  clock: Clock;
  config: AuthServerConfig;
  /** Where a reused code or refresh token is reported. */
  audit: AuditLog;
}

export type GrantFactory = (d: GrantDependencies) => Grant;

/** A grant that is not enabled (TESSERA_GRANTS) is not built, so it answers unsupported_grant_type. */
export const GRANT_FACTORIES: Record<GrantType, GrantFactory> = {
  client_credentials: (d) => new ClientCredentialsGrant(d.issuer, d.config.issuer.url),
  authorization_code: (d) => new AuthorizationCodeGrant(d.codes, d.users, d.refreshTokens, d.issuer, d.refreshTokenIssuer, d.clock, d.audit),
  refresh_token: (d) => new RefreshTokenGrant(d.refreshTokens, d.users, d.issuer, d.refreshTokenIssuer, d.clock, d.audit),
};
