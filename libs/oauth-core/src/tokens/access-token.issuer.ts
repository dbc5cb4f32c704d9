import type { AccessTokenFormat, Client } from '../domain/client.js';
import type { IssuedAccessToken } from '../domain/token.js';
import { AccessTokenStrategy } from '../ports/access-token.strategy.js';
import type { Clock } from '../ports/clock.port.js';
import type { RandomSource } from '../ports/random.port.js';

export interface AccessTokenIssuerOptions {
  issuer: string;
  /** Lifetime when the client sets none, in seconds. */
  defaultTtl: number;
}

export interface AccessTokenGrant {
  client: Client;
  subject: string;
  scope: string[];
  audience: string[];
  grantId?: string | null;
}

/** Issues an access token in the client's format. The format is data, the strategies do the rest. */
export class AccessTokenIssuer {
  private readonly strategies: Map<AccessTokenFormat, AccessTokenStrategy>;

  constructor(
    strategies: AccessTokenStrategy[],
    private readonly random: RandomSource,
    private readonly clock: Clock,
    private readonly options: AccessTokenIssuerOptions,
  ) {
    this.strategies = new Map(strategies.map((s) => [s.format, s]));
  }

  async issue(grant: AccessTokenGrant): Promise<IssuedAccessToken> {
    const format = grant.client.accessTokenFormat;
    const strategy = this.strategies.get(format);
    if (!strategy) throw new Error(`no strategy for access token format ${format}`);
    const expiresIn = grant.client.accessTokenTtl ?? this.options.defaultTtl;
    const iat = this.clock.nowSeconds();
    const claims = {
      jti: this.random.token(16),
      iss: this.options.issuer,
      sub: grant.subject,
      clientId: grant.client.clientId,
      aud: grant.audience,
      scope: grant.scope,
      iat,
      exp: iat + expiresIn,
      grantId: grant.grantId ?? null,
      format,
    };
    const token = await strategy.issue(claims);
    return { token, claims, expiresIn };
  }
}
