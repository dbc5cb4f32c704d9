// RFC 6749 §6: Refreshing an Access Token; OAuth 2.1 §4.3 / RFC 9700 §4.14.2: rotation, and reuse revokes the family.
import type { Client } from '../domain/client.js';
import { OAuthError } from '../errors/oauth-error.js';
import type { FormParams } from '../forms/form-params.js';
import { NoAuditLog, type AuditLog } from '../ports/audit-log.port.js';
import type { Clock } from '../ports/clock.port.js';
import { RefreshTokenRepository, type RefreshTokenWithUser } from '../ports/refresh-token.repository.js';
import { UserRepository } from '../ports/user.repository.js';
import { parseScope } from '../scopes/scope.js';
import type { AccessTokenIssuer } from '../tokens/access-token.issuer.js';
import { REFRESH_TOKEN_SHAPE, type RefreshTokenIssuer } from '../tokens/refresh-token.issuer.js';
import { hashToken } from '../tokens/token-hash.js';
import { narrowAudience } from './audience.js';
import type { Grant, TokenResult } from './grant.js';

export class RefreshTokenGrant implements Grant {
  readonly grantType = 'refresh_token';
  readonly parameters = ['refresh_token', 'scope', 'resource'] as const;
  /** OAuth 2.1 §4.3.1: public clients rotate, so a stolen token is caught at its next use. */
  readonly allowsPublicClients = true;

  constructor(
    private readonly refreshTokens: RefreshTokenRepository,
    private readonly users: UserRepository,
    private readonly accessTokens: AccessTokenIssuer,
    private readonly refreshTokenIssuer: RefreshTokenIssuer,
    private readonly clock: Clock,
    private readonly audit: AuditLog = new NoAuditLog(),
  ) {}

  async handle(params: FormParams, client: Client): Promise<TokenResult> {
    const value = params.require('refresh_token');
    const requestedScope = parseScope(params.get('scope'));
    const requestedResources = params.getAll('resource');
    if (!REFRESH_TOKEN_SHAPE.test(value)) throw OAuthError.invalidGrant('invalid refresh token');

    const hash = hashToken(value);
    // The token and its user's standing in one round trip where the store offers it, else the user after the token.
    const found = this.refreshTokens.findForRefresh ? await this.refreshTokens.findForRefresh(hash) : await this.findThenUser(hash);
    const stored = found?.token;
    const now = this.clock.now();
    // §6: the refresh token must have been issued to the authenticated client.
    if (!stored || stored.clientId !== client.clientId || stored.revokedAt) throw OAuthError.invalidGrant('invalid refresh token');
    if (stored.rotatedAt) return this.reused(stored.clientId, stored.grantId, now);
    if (stored.expiresAt.getTime() <= now.getTime()) throw OAuthError.invalidGrant('refresh token expired');
    if (!found.userActive) throw OAuthError.invalidGrant('the user is not allowed to sign in');

    // §6: a narrower scope may be asked for; the new refresh token keeps the original one.
    const denied = requestedScope.filter((s) => !stored.scope.includes(s));
    if (denied.length > 0) throw OAuthError.invalidScope(`scope not granted: ${denied.join(' ')}`);
    const scope = requestedScope.length > 0 ? requestedScope : stored.scope;
    const audience = narrowAudience(requestedResources, stored.audience);

    // The access token is written while the rotation runs: two statements at once, not one after the other (a
    // round trip less on the path of each refresh). Neither is answered before both have succeeded. When the
    // rotation loses (a concurrent use rotated the token first), the access token is never sent, and the grant's
    // revocation below (marked as of now, after its issue) makes it inactive anyway; when either fails, the request
    // fails as it did when they ran in turn.
    const [refreshToken, issued] = await Promise.all([
      this.refreshTokenIssuer.rotate(hash, stored),
      this.accessTokens.issue({ client, subject: stored.subject, scope, audience, grantId: stored.grantId }),
    ]);
    if (refreshToken === null) return this.reused(stored.clientId, stored.grantId, this.clock.now()); // a concurrent use rotated it first
    return { accessToken: issued.token, tokenType: 'Bearer', expiresIn: issued.expiresIn, scope, refreshToken };
  }

  /** Two reads in turn, for a store without `findForRefresh`: the user only for a token that may be used. */
  private async findThenUser(hash: string): Promise<RefreshTokenWithUser | null> {
    const token = await this.refreshTokens.findByHash(hash);
    if (!token || token.revokedAt || token.rotatedAt) return token && { token, userActive: false };
    const user = await this.users.findById(token.subject);
    return { token, userActive: user !== null && !user.disabledAt };
  }

  private async reused(clientId: string, grantId: string, now: Date): Promise<never> {
    await this.refreshTokens.revokeGrant(clientId, grantId, now);
    this.audit.record({ event: 'refresh_token.reused', clientId, grantId });
    throw OAuthError.invalidGrant('refresh token already used; its grant is revoked');
  }
}
