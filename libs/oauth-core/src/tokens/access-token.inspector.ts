import type { AccessTokenClaims } from '../domain/token.js';
import { AccessTokenStrategy } from '../ports/access-token.strategy.js';
import { ClientRepository } from '../ports/client.repository.js';
import { RevocationRepository } from '../ports/revocation.repository.js';

/**
 * Decides whether a token of either format is active: issued here, unexpired,
 * not revoked (by its own record, by jti, or by an issued-before mark), and its
 * client still enabled. Introspection and revocation both start here.
 */
export class AccessTokenInspector {
  constructor(
    private readonly strategies: AccessTokenStrategy[],
    private readonly revocations: RevocationRepository,
    private readonly clients: ClientRepository,
  ) {}

  strategyFor(token: string): AccessTokenStrategy | undefined {
    return this.strategies.find((s) => s.recognizes(token));
  }

  /** The token's claims when it verifies (signature/record and expiry), ignoring revocation marks. */
  async verify(token: string): Promise<{ claims: AccessTokenClaims; strategy: AccessTokenStrategy } | null> {
    const strategy = this.strategyFor(token);
    if (!strategy) return null;
    const claims = await strategy.verify(token);
    return claims ? { claims, strategy } : null;
  }

  async activeClaims(token: string): Promise<AccessTokenClaims | null> {
    const strategy = this.strategyFor(token);
    if (strategy?.verifyActive) {
      // The record and the revocation log in one read (an opaque token: one round trip); the client is cached.
      const claims = await strategy.verifyActive(token);
      if (!claims) return null;
      const client = await this.clients.findById(claims.clientId);
      return client && !client.disabledAt ? claims : null;
    }
    const verified = await this.verify(token);
    if (!verified) return null;
    const { claims } = verified;
    const [revoked, client] = await Promise.all([this.revocations.isRevoked(claims), this.clients.findById(claims.clientId)]);
    if (revoked || !client || client.disabledAt) return null;
    return claims;
  }
}
