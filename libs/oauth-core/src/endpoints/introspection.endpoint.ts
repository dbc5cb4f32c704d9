// RFC 7662: Token Introspection. Unknown, expired, revoked or garbage tokens are { "active": false }, and so is
// any token the caller may not learn about (§4: callers are authorized): a client learns about the tokens
// issued to it, and a resource server (`Client.resourceServerFor`) about the access tokens of its audience.
import { CLIENT_SECRET_METHODS, type ClientAuthenticator, type ClientAuthPolicy } from '../client-auth/client-authenticator.js';
import type { Client } from '../domain/client.js';
import type { AccessTokenClaims } from '../domain/token.js';
import { OAuthError } from '../errors/oauth-error.js';
import type { FormParams } from '../forms/form-params.js';
import { INACTIVE, introspectionResponse, refreshTokenIntrospectionResponse } from '../forms/wire.js';
import type { Clock } from '../ports/clock.port.js';
import type { RefreshTokenRepository } from '../ports/refresh-token.repository.js';
import type { UserRepository } from '../ports/user.repository.js';
import type { AccessTokenInspector } from '../tokens/access-token.inspector.js';
import { REFRESH_TOKEN_SHAPE } from '../tokens/refresh-token.issuer.js';
import { hashToken } from '../tokens/token-hash.js';

/** When refresh tokens exist: how to find one, and whether its user may still use it. */
export interface IntrospectedRefreshTokens {
  repo: RefreshTokenRepository;
  users: UserRepository;
  clock: Clock;
}

type Lookup = (token: string, client: Client) => Promise<Record<string, unknown> | null>;

export class IntrospectionEndpoint {
  /** A public client proves nothing by its client_id alone: it may not read tokens. */
  static readonly clientAuth: ClientAuthPolicy = { methods: CLIENT_SECRET_METHODS };

  constructor(
    private readonly authenticator: ClientAuthenticator,
    private readonly inspector: AccessTokenInspector,
    private readonly refreshTokens?: IntrospectedRefreshTokens,
  ) {}

  async handle(authorization: string | undefined, params: FormParams): Promise<Record<string, unknown>> {
    const token = params.require('token');
    const hint = params.get('token_type_hint');
    const client = await this.authenticator.authenticate(authorization, params, IntrospectionEndpoint.clientAuth);
    // A public client proves nothing by its client_id alone: it may not read other clients' tokens.
    if (client.secretHash === null) throw OAuthError.invalidClient('public clients may not introspect tokens');
    // §2.1: the hint only says where to look first; a token of the other type is still found.
    const lookups: Lookup[] = hint === 'refresh_token' ? [this.refreshToken, this.accessToken] : [this.accessToken, this.refreshToken];
    for (const lookup of lookups) {
      const found = await lookup(token, client);
      if (found) return found;
    }
    return { ...INACTIVE };
  }

  private readonly accessToken: Lookup = async (token, client) => {
    const claims = await this.inspector.activeClaims(token);
    return claims && mayLearnAbout(client, claims) ? introspectionResponse(claims) : null;
  };

  /** A refresh token is shown only to the client it was issued to (no resource server ever receives one). */
  private readonly refreshToken: Lookup = async (token, client) => {
    if (!this.refreshTokens || !REFRESH_TOKEN_SHAPE.test(token)) return null;
    const { repo, users, clock } = this.refreshTokens;
    const stored = await repo.findByHash(hashToken(token));
    if (!stored || stored.clientId !== client.clientId || stored.revokedAt || stored.rotatedAt) return null;
    if (stored.expiresAt.getTime() <= clock.now().getTime()) return null;
    const user = await users.findById(stored.subject);
    if (!user || user.disabledAt) return null;
    return refreshTokenIntrospectionResponse(stored);
  };
}

/** The client the token was issued to, or a resource server for one of the token's audiences. */
function mayLearnAbout(client: Client, claims: AccessTokenClaims): boolean {
  return claims.clientId === client.clientId || claims.aud.some((aud) => client.resourceServerFor.includes(aud));
}
