// RFC 7009: Token Revocation. An unknown or already invalid token is not an error (§2.2).
import type { ClientAuthenticator, ClientAuthPolicy } from '../client-auth/client-authenticator.js';
import type { FormParams } from '../forms/form-params.js';
import { NoAuditLog, type AuditLog } from '../ports/audit-log.port.js';
import type { Clock } from '../ports/clock.port.js';
import type { RefreshTokenRepository } from '../ports/refresh-token.repository.js';
import type { AccessTokenInspector } from '../tokens/access-token.inspector.js';
import { REFRESH_TOKEN_SHAPE } from '../tokens/refresh-token.issuer.js';
import { hashToken } from '../tokens/token-hash.js';

export class RevocationEndpoint {
  /** Every method, public clients (`none`) included: a client may always give up its own tokens (§2.1). */
  static readonly clientAuth: ClientAuthPolicy = { methods: ['client_secret_basic', 'client_secret_post', 'none'] };

  constructor(
    private readonly authenticator: ClientAuthenticator,
    private readonly inspector: AccessTokenInspector,
    private readonly clock: Clock,
    /** When refresh tokens exist: revoking one revokes its whole grant (§2.1). */
    private readonly refreshTokens?: RefreshTokenRepository,
    private readonly audit: AuditLog = new NoAuditLog(),
  ) {}

  async handle(authorization: string | undefined, params: FormParams): Promise<void> {
    const token = params.require('token');
    params.get('token_type_hint'); // §2.1: only a hint; every token type is searched anyway
    const client = await this.authenticator.authenticate(authorization, params, RevocationEndpoint.clientAuth);
    if (this.refreshTokens && REFRESH_TOKEN_SHAPE.test(token)) return this.revokeRefreshToken(token, client.clientId);
    const verified = await this.inspector.verify(token);
    if (!verified) return;
    // §2.1: the token must have been issued to the client making the request. Another client's token is left
    // alone and answered like an unknown one (§2.2), so the answer does not tell whether it is valid.
    if (verified.claims.clientId !== client.clientId) return;
    await verified.strategy.revoke(token, verified.claims, this.clock.now());
    this.audit.record({ event: 'token.revoked', clientId: client.clientId, tokenType: 'access_token', jti: verified.claims.jti, grantId: verified.claims.grantId ?? undefined });
  }

  /** §2.1: revoking a refresh token also invalidates the access tokens of its grant; here, its whole family. */
  private async revokeRefreshToken(token: string, clientId: string): Promise<void> {
    const stored = await this.refreshTokens!.findByHash(hashToken(token));
    if (!stored || stored.revokedAt) return;
    if (stored.clientId !== clientId) return; // another client's: revoke nothing, answer as for an unknown token
    await this.refreshTokens!.revokeGrant(stored.clientId, stored.grantId, this.clock.now());
    this.audit.record({ event: 'token.revoked', clientId, tokenType: 'refresh_token', grantId: stored.grantId });
  }
}
