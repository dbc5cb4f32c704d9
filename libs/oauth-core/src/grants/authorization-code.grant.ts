// RFC 6749 §4.1.3: Access Token Request with an authorization code; RFC 7636 §4.5-4.6 (PKCE, S256 only);
// RFC 9700 §4.2.4 / OAuth 2.1 §4.1.3: a code used twice revokes every token issued from it.
import type { Client } from '../domain/client.js';
import { OAuthError } from '../errors/oauth-error.js';
import type { FormParams } from '../forms/form-params.js';
import { AuthorizationCodeRepository } from '../ports/authorization-code.repository.js';
import { NoAuditLog, type AuditLog } from '../ports/audit-log.port.js';
import type { Clock } from '../ports/clock.port.js';
import { RefreshTokenRepository } from '../ports/refresh-token.repository.js';
import { UserRepository } from '../ports/user.repository.js';
import type { AccessTokenIssuer } from '../tokens/access-token.issuer.js';
import { AUTHORIZATION_CODE_SHAPE } from '../tokens/authorization-code.issuer.js';
import type { RefreshTokenIssuer } from '../tokens/refresh-token.issuer.js';
import { hashToken } from '../tokens/token-hash.js';
import { narrowAudience } from './audience.js';
import type { Grant, TokenResult } from './grant.js';
import { verifiesS256 } from './pkce.js';

export class AuthorizationCodeGrant implements Grant {
  readonly grantType = 'authorization_code';
  readonly parameters = ['code', 'redirect_uri', 'code_verifier', 'resource'] as const;
  /** Public clients prove possession with PKCE. */
  readonly allowsPublicClients = true;

  constructor(
    private readonly codes: AuthorizationCodeRepository,
    private readonly users: UserRepository,
    private readonly refreshTokens: RefreshTokenRepository,
    private readonly accessTokens: AccessTokenIssuer,
    private readonly refreshTokenIssuer: RefreshTokenIssuer,
    private readonly clock: Clock,
    private readonly audit: AuditLog = new NoAuditLog(),
  ) {}

  async handle(params: FormParams, client: Client): Promise<TokenResult> {
    const codeValue = params.require('code');
    const redirectUri = params.require('redirect_uri');
    const verifier = params.get('code_verifier');
    if (verifier === undefined) throw OAuthError.invalidGrant('code_verifier is required (PKCE)');
    const requestedResources = params.getAll('resource');
    if (!AUTHORIZATION_CODE_SHAPE.test(codeValue)) throw OAuthError.invalidGrant('invalid authorization code');

    const now = this.clock.now();
    // §4.1.3: the code must have been issued to the authenticated client (another client's is not even spent).
    const redeemed = await this.codes.redeem(hashToken(codeValue), client.clientId, now);
    if (!redeemed) throw OAuthError.invalidGrant('invalid authorization code');
    const { code, previouslyRedeemedAt } = redeemed;
    if (previouslyRedeemedAt) {
      await this.refreshTokens.revokeGrant(code.clientId, code.grantId, now);
      this.audit.record({ event: 'authorization_code.reused', clientId: code.clientId, grantId: code.grantId, userId: code.subject });
      throw OAuthError.invalidGrant('authorization code already used; the tokens issued from it are revoked');
    }
    if (code.expiresAt.getTime() <= now.getTime()) throw OAuthError.invalidGrant('authorization code expired');
    if (code.redirectUri !== redirectUri) throw OAuthError.invalidGrant('redirect_uri does not match the authorization request');
    if ((code.codeChallengeMethod as string) !== 'S256' || !verifiesS256(verifier, code.codeChallenge)) {
      throw OAuthError.invalidGrant('code_verifier does not match the code_challenge');
    }
    const user = await this.users.findById(code.subject);
    if (!user || user.disabledAt) throw OAuthError.invalidGrant('the user is not allowed to sign in');

    const audience = narrowAudience(requestedResources, code.audience);
    const issued = await this.accessTokens.issue({ client, subject: code.subject, scope: code.scope, audience, grantId: code.grantId });
    const refreshToken = client.grantTypes.includes('refresh_token')
      ? await this.refreshTokenIssuer.issue({ clientId: client.clientId, subject: code.subject, scope: code.scope, audience: code.audience, grantId: code.grantId })
      : undefined;
    return { accessToken: issued.token, tokenType: 'Bearer', expiresIn: issued.expiresIn, scope: code.scope, ...(refreshToken ? { refreshToken } : {}) };
  }
}
